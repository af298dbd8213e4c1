<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Each user's own page, "Outlook Calendar" (user menu, and the profile's Miscellaneous section):
 * whether their sessions reach Outlook and, if not, why, in the bridge's plain words in their
 * language; and, where the bridge offers them a calendar feed, their address with Copy, New address
 * and Stop.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

require_once(__DIR__ . '/../../config.php');

use local_outlooksync\local\user_page;

require_login(null, false);
$url = new moodle_url('/local/outlooksync/my.php');
$PAGE->set_url($url);
$PAGE->set_context(context_user::instance($USER->id));
$PAGE->set_pagelayout('standard');
$PAGE->set_title(get_string('mypage', 'local_outlooksync'));
$PAGE->set_heading(fullname($USER));
if (!user_page::available_to($USER)) {
    throw new moodle_exception('mypageoff', 'local_outlooksync');
}

$page = new user_page();
$action = optional_param('feed', '', PARAM_ALPHA);
if ($action !== '') {
    require_sesskey();
    $done = in_array($action, user_page::ACTIONS, true) && $page->feed((int)$USER->id, $action);
    redirect($url, $done ? null : get_string('feedrefused', 'local_outlooksync'), null,
        $done ? \core\output\notification::NOTIFY_SUCCESS : \core\output\notification::NOTIFY_ERROR);
}

$found = $page->load((int)$USER->id, current_language());
echo $OUTPUT->header();
echo $OUTPUT->heading(get_string('mypage', 'local_outlooksync'));
if ($found['problem'] !== null) {
    echo $OUTPUT->notification(get_string('my' . $found['problem'], 'local_outlooksync'), 'info');
    echo $OUTPUT->footer();
    exit;
}
$state = $found['state'];
echo $OUTPUT->notification(s($state['message']), $state['reaches_outlook'] ? 'success' : 'info', false);
if (!empty($state['reason_text'])) {
    echo html_writer::tag('p', s($state['reason_text']));
}
if (!empty($state['feed']['offered'])) {
    echo $OUTPUT->heading(get_string('feedheading', 'local_outlooksync'), 3);
    echo html_writer::tag('p', get_string('feedintro', 'local_outlooksync'));
    $button = fn(string $feed, string $label, string $style) => html_writer::tag('form',
        html_writer::empty_tag('input', ['type' => 'hidden', 'name' => 'sesskey', 'value' => sesskey()]) .
        html_writer::tag('button', get_string($label, 'local_outlooksync'),
            ['type' => 'submit', 'name' => 'feed', 'value' => $feed, 'class' => "btn $style"]),
        ['method' => 'post', 'action' => $url->out(false), 'class' => 'd-inline-block me-2 mr-2']);
    if ($found['feed'] !== null) {
        $PAGE->requires->js_amd_inline("require(['core/copy_to_clipboard']);");
        echo html_writer::start_div('input-group mb-3');
        echo html_writer::empty_tag('input', ['type' => 'text', 'id' => 'local-outlooksync-feedurl', 'readonly' => 'readonly',
            'class' => 'form-control', 'value' => $found['feed']['url'],
            'aria-label' => get_string('feedaddress', 'local_outlooksync')]);
        echo html_writer::tag('button', get_string('copy', 'local_outlooksync'), ['type' => 'button',
            'class' => 'btn btn-secondary', 'data-action' => 'copytoclipboard',
            'data-clipboard-target' => '#local-outlooksync-feedurl',
            'data-clipboard-success-message' => get_string('copied', 'local_outlooksync')]);
        echo html_writer::end_div();
        echo html_writer::tag('p', html_writer::link($found['feed']['webcal'], get_string('feedopen', 'local_outlooksync')));
        echo $button('rotate', 'feednew', 'btn-secondary') . $button('revoke', 'feedstop', 'btn-outline-danger');
        echo html_writer::tag('p', get_string('feedprivate', 'local_outlooksync'), ['class' => 'small text-muted mt-2']);
    } else {
        echo $button('rotate', 'feedget', 'btn-primary');
    }
}
echo $OUTPUT->footer();
