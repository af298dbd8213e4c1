<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Site administration: the connection settings, and the "Microsoft Outlook Calendar" page.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

// Moodle 4.3 to 4.5 add the category "Local plugins" for site administrators only (admin/settings/plugins.php;
// 5.0 adds it for everyone), so where it is missing a manager, who holds local/outlooksync:manage without
// moodle/site:config, finds the page under "Plugins", which admin/settings/top.php adds for everyone.
if ($hassiteconfig || has_capability('local/outlooksync:manage', context_system::instance())) {
    $ADMIN->add($ADMIN->locate('localplugins') ? 'localplugins' : 'modules', new admin_externalpage('local_outlooksync_page',
        get_string('pagename', 'local_outlooksync'), new moodle_url('/local/outlooksync/index.php'),
        'local/outlooksync:manage'));
}

if ($hassiteconfig) {
    $settings = new admin_settingpage('local_outlooksync', get_string('settings', 'local_outlooksync'));
    $settings->add(new admin_setting_configtext('local_outlooksync/bridgeurl',
        get_string('bridgeurl', 'local_outlooksync'), get_string('bridgeurl_desc', 'local_outlooksync'), '', PARAM_URL, 60));
    $settings->add(new admin_setting_configtext('local_outlooksync/keyid',
        get_string('keyid', 'local_outlooksync'), get_string('keyid_desc', 'local_outlooksync'), '',
        '/^(hk_[A-Za-z0-9_-]{16})?$/', 24));
    $settings->add(new admin_setting_configpasswordunmask('local_outlooksync/secret',
        get_string('secret', 'local_outlooksync'), get_string('secret_desc', 'local_outlooksync'), ''));
    $settings->add(new admin_setting_configtext('local_outlooksync/account',
        get_string('account', 'local_outlooksync'), get_string('account_desc', 'local_outlooksync'), '',
        '/^([A-Za-z0-9._:-]{1,128})?$/', 40));
    $settings->add(new admin_setting_configcheckbox('local_outlooksync/privatenetwork',
        get_string('privatenetwork', 'local_outlooksync'), get_string('privatenetwork_desc', 'local_outlooksync'), 0));
    // Read by \local_outlooksync\local\sources::installed(): off, the reconcile task deletes the deadlines sent.
    $settings->add(new admin_setting_configcheckbox('local_outlooksync/deadlines',
        get_string('deadlines', 'local_outlooksync'), get_string('deadlines_desc', 'local_outlooksync'), 0));
    // Switching it on queues the backfill however it is done (\local_outlooksync\task\backfill).
    $settings->add(new admin_setting_configcheckbox('local_outlooksync/enabled',
        get_string('enabled', 'local_outlooksync'), get_string('enabled_desc', 'local_outlooksync'), 0));
    $ADMIN->add('localplugins', $settings);
}
