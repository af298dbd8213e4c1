<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Site administration → Plugins → Local plugins → Microsoft Outlook Calendar (for managers without
 * moodle/site:config: Site administration → Plugins → Microsoft Outlook Calendar): the bridge's
 * Integrations page in a frame, opened with a launch token signed for the current user.
 *
 * Before the launch, the viewer's own user record is sent (nothing when it is unchanged), so the
 * bridge knows their name and current role: the page then says "Connected by <name>", and a manager
 * given the role a minute ago is not refused for a role the reconcile task has not sent yet.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

require_once(__DIR__ . '/../../config.php');
require_once($CFG->libdir . '/adminlib.php');

use local_outlooksync\local\launch_token;
use local_outlooksync\local\runner;

admin_externalpage_setup('local_outlooksync_page');
$config = get_config('local_outlooksync');

echo $OUTPUT->header();
echo $OUTPUT->heading(get_string('pagename', 'local_outlooksync'));
if (empty($config->bridgeurl) || empty($config->secret) || empty($config->account)) {
    echo $OUTPUT->notification(get_string('notconfigured', 'local_outlooksync'), 'warning');
} else {
    $runner = new runner();
    if ($runner->ready()) {
        try {
            $runner->send([(int)$USER->id], []);
        } catch (moodle_exception $e) {
            // The frame below shows whether the bridge answers at all; the delivery task sends this later.
            echo $OUTPUT->notification($e->getMessage(), 'warning');
        }
    }
    $admin = get_admin();
    $role = $admin && (int)$admin->id === (int)$USER->id ? 'owner' : 'admin';
    $token = launch_token::make($config->secret, $config->account, (string)$USER->id, $role, time(), current_language(),
        random_string(16));
    $query = ['launch' => $token];
    if (!empty($config->keyid)) {
        $query['key'] = trim($config->keyid);  // the key whose secret signed the token
    }
    $url = new moodle_url(rtrim($config->bridgeurl, '/') . '/integrations/outlook', $query);
    echo html_writer::tag('iframe', '', ['src' => $url->out(false), 'title' => get_string('pagename', 'local_outlooksync'),
        'style' => 'width: 100%; height: 80vh; border: 0;']);
    echo html_writer::tag('p', html_writer::link($url, get_string('openalone', 'local_outlooksync'),
        ['target' => '_blank', 'rel' => 'noopener']), ['class' => 'small']);
}
echo $OUTPUT->footer();
