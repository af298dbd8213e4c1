<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Observers: each only queues a delivery task (internal observers run inside the caller's
 * transaction, so the task row commits or rolls back with the change itself).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$observers = [];
$map = [
    'session_changed' => ['\mod_facetoface\event\add_session', '\mod_facetoface\event\update_session',
        '\mod_facetoface\event\delete_session', '\mod_facetoface\event\signup_success',
        '\mod_facetoface\event\cancel_booking'],
    'user_changed' => ['\core\event\user_created', '\core\event\user_updated', '\core\event\user_deleted'],
    'role_changed' => ['\core\event\role_assigned', '\core\event\role_unassigned'],
    'config_changed' => ['\core\event\config_log_created'],
    'activity_changed' => ['\core\event\course_module_updated', '\core\event\course_module_deleted'],
    'course_deleted' => ['\core\event\course_deleted'],
];
foreach ($map as $method => $eventnames) {
    foreach ($eventnames as $eventname) {
        $observers[] = ['eventname' => $eventname, 'callback' => '\local_outlooksync\observer::' . $method];
    }
}
