<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Russian strings of local_outlooksync.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['account'] = 'Идентификатор учётной записи';
$string['account_desc'] = 'Под каким именем этот сайт Moodle известен мосту (буквы, цифры, . _ : -). Выбрав, не меняйте: мост хранит подключение и синхронизированные записи под этим именем.';
$string['bridgerefused'] = 'Мост Outlook Calendar по адресу {$a->url} не принял доставку (HTTP {$a->status}): {$a->response}';
$string['bridgeurl'] = 'Адрес моста';
$string['bridgeurl_desc'] = 'Базовый адрес моста Outlook Calendar for the LMS (его OUTLOOK_SYNC_PUBLIC_URL), например https://outlook-sync.example.com. Moodle отправляет туда хуки и показывает оттуда его страницу.';
$string['copied'] = 'Адрес скопирован';
$string['copy'] = 'Копировать';
$string['deadlines'] = 'Отправлять сроки';
$string['deadlines_desc'] = 'Отправлять также сроки сдачи заданий и время закрытия тестов, с собственным сроком каждого учащегося (продление, индивидуальное или групповое переопределение) и отметкой, сдал ли он работу или завершил тест. Мост показывает их в Outlook, если на его странице включены сроки. Выключение удаляет отправленное в течение 5 минут (задача сверки).';
$string['enabled'] = 'Включено';
$string['enabled_desc'] = 'Отправлять мосту пользователей Moodle, сеансы face-to-face, варианты бронирования и бронирования. Включение здесь или через admin/cli/cfg.php ставит в очередь полную выгрузку.';
$string['feedaddress'] = 'Адрес вашего календаря';
$string['feedget'] = 'Получить адрес моего календаря';
$string['feedheading'] = 'Ваши сеансы в любом приложении-календаре';
$string['feedintro'] = 'Ваше приложение-календарь тоже может показывать ваши сеансы: подпишитесь на ваш личный адрес календаря (Google Календарь: Другие календари → Добавить по URL; Outlook.com: Добавить календарь → Подписаться из Интернета; Календарь Apple: Файл → Новая подписка на календарь). Дальше приложение само проверяет изменения.';
$string['feednew'] = 'Новый адрес';
$string['feedopen'] = 'Открыть в приложении-календаре';
$string['feedprivate'] = 'Никому не передавайте этот адрес: любой, у кого он есть, видит ваши сеансы. «Новый адрес» создаёт другой и сразу отключает старый; «Остановить» удаляет его.';
$string['feedrefused'] = 'Сервис Outlook Calendar этого не сделал. Попробуйте позже.';
$string['feedstop'] = 'Остановить';
$string['mypage'] = 'Календарь Outlook';
$string['mypageoff'] = 'Интеграция с календарём Outlook на этом сайте не включена.';
$string['myunknown'] = 'Moodle ещё не сообщил о вас сервису Outlook Calendar. Это происходит в течение нескольких минут; откройте страницу позже.';
$string['myunreachable'] = 'Сервис Outlook Calendar сейчас недоступен. Откройте страницу позже; если это продолжается, сообщите администраторам сайта.';
$string['notconfigured'] = 'Интеграция с календарём Outlook не настроена: укажите адрес моста, секрет хоста и идентификатор учётной записи в разделе Администрирование → Плагины → Локальные плагины → Outlook Calendar sync.';
$string['openalone'] = 'Открыть страницу в отдельном окне';
$string['outlooksync:manage'] = 'Управлять интеграцией с календарём Microsoft Outlook';
$string['pagename'] = 'Календарь Microsoft Outlook';
$string['pluginname'] = 'Outlook Calendar sync';
$string['privacy:metadata:bridge'] = 'Мост Outlook Calendar for the LMS получает пользователей, их сеансы face-to-face и варианты бронирования и записывает их в календари Outlook через Microsoft Graph.';
$string['privacy:metadata:bridge:active'] = 'Активен ли пользователь (не заблокирован).';
$string['privacy:metadata:bridge:deadlines'] = 'Если сроки отправляются: задания и тесты пользователя (название, описание, ссылка), его собственный срок (с учётом продления или переопределения) и отметка, сдал ли он работу или завершил тест.';
$string['privacy:metadata:bridge:email'] = 'Адрес электронной почты пользователя, по которому находится его почтовый ящик.';
$string['privacy:metadata:bridge:fullname'] = 'Полное имя пользователя.';
$string['privacy:metadata:bridge:role'] = 'Владеет ли пользователь интеграцией, администрирует, ведёт занятия или учится.';
$string['privacy:metadata:bridge:sessions'] = 'Сеансы face-to-face и варианты бронирования, которые пользователь ведёт или на которые записан: название, описание, даты, место и ссылка.';
$string['privacy:metadata:bridge:timezone'] = 'Часовой пояс пользователя.';
$string['privacy:metadata:bridge:userid'] = 'Идентификатор пользователя в Moodle.';
$string['privacy:metadata:preference:feedissued'] = 'Когда мост создал адрес календаря пользователя.';
$string['privacy:metadata:preference:feedurl'] = 'Личный адрес календаря пользователя, созданный для него мостом.';
$string['privacy:metadata:state'] = 'Что последним отправлено мосту по каждому объекту, чтобы каждое изменение отправлялось один раз.';
$string['privacy:metadata:state:hash'] = 'Хеш отправленного содержимого.';
$string['privacy:metadata:state:objectkey'] = 'Объект: идентификатор пользователя или дата сеанса и идентификатор пользователя.';
$string['privacy:metadata:state:version'] = 'Отправленная версия.';
$string['privatenetwork'] = 'Мост в частной сети';
$string['privatenetwork_desc'] = 'Moodle отказывается обращаться к локальным и частным адресам и к портам, кроме 80 и 443 (Администрирование → Общие → Безопасность → Безопасность HTTP). Отметьте, если мост находится по такому адресу: запросы плагина к указанному выше адресу моста будут пропускать эту проверку, больше ничего не изменится. Оставьте выключенным, чтобы сохранить проверку и вместо этого разрешить хост и порт моста в том списке.';
$string['keyid'] = 'Идентификатор ключа хоста';
$string['keyid_desc'] = 'Идентификатор собственного ключа этого сайта на мосту (hk_…, выдаётся командой `outlook-sync host-key create --account <идентификатор учётной записи>`); секрет хоста тогда — секрет этого ключа. Оставьте пустым, только если этот сайт — единственная LMS моста и подписывает запросы его OUTLOOK_SYNC_HOST_SECRET. Мост, обслуживающий несколько сайтов, выдаёт каждому свой ключ.';
$string['secret'] = 'Секрет хоста';
$string['secret_desc'] = 'Секрет, которым подписываются хуки, ссылки запуска страницы и запросы о пользователе (не короче 16 символов): секрет ключа хоста выше или, без идентификатора ключа, OUTLOOK_SYNC_HOST_SECRET моста.';
$string['settings'] = 'Outlook Calendar sync';
$string['taskreconcile'] = 'Календарь Outlook: отправить изменения, о которых не было событий';
