<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Observers: each only queues a task (internal observers run inside the caller's transaction, so
 * the task row commits or rolls back with the change itself). The events of a booking module that
 * is not installed are never triggered, so registering them costs nothing.
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
    // Wunderbyte-GmbH/moodle-mod_booking 9.6, classes/event/: the option, its dates, its teachers, its answers.
    'booking_changed' => ['\mod_booking\event\bookingoption_created', '\mod_booking\event\bookingoption_updated',
        '\mod_booking\event\bookingoption_deleted', '\mod_booking\event\bookingoption_cancelled',
        '\mod_booking\event\bookingoptiondate_created', '\mod_booking\event\bookingoptiondate_deleted',
        '\mod_booking\event\teacher_added', '\mod_booking\event\teacher_removed',
        '\mod_booking\event\optiondates_teacher_added', '\mod_booking\event\optiondates_teacher_deleted',
        '\mod_booking\event\bookingoption_booked', '\mod_booking\event\bookingoptionwaitinglist_booked',
        '\mod_booking\event\bookinganswer_cancelled', '\mod_booking\event\bookinganswer_confirmed',
        '\mod_booking\event\bookinganswer_movedupfromwaitinglist'],
    // moodle/moodle mod/assign/classes/event/ and mod/quiz/classes/event/ (4.3 to 5.0): submissions, extensions,
    // overrides, attempts.
    'deadline_changed' => ['\mod_assign\event\assessable_submitted', '\mod_assign\event\submission_status_updated',
        '\mod_assign\event\submission_removed', '\mod_assign\event\extension_granted',
        '\mod_assign\event\user_override_created', '\mod_assign\event\user_override_updated',
        '\mod_assign\event\user_override_deleted', '\mod_assign\event\group_override_created',
        '\mod_assign\event\group_override_updated', '\mod_assign\event\group_override_deleted',
        '\mod_quiz\event\attempt_submitted', '\mod_quiz\event\attempt_deleted', '\mod_quiz\event\attempt_reopened',
        '\mod_quiz\event\user_override_created', '\mod_quiz\event\user_override_updated',
        '\mod_quiz\event\user_override_deleted', '\mod_quiz\event\group_override_created',
        '\mod_quiz\event\group_override_updated', '\mod_quiz\event\group_override_deleted'],
    'course_learners_changed' => ['\core\event\user_enrolment_created', '\core\event\user_enrolment_updated',
        '\core\event\user_enrolment_deleted', '\core\event\group_member_added', '\core\event\group_member_removed'],
    'user_changed' => ['\core\event\user_created', '\core\event\user_updated', '\core\event\user_deleted'],
    'role_changed' => ['\core\event\role_assigned', '\core\event\role_unassigned'],
    'config_changed' => ['\core\event\config_log_created'],
    'activity_changed' => ['\core\event\course_module_created', '\core\event\course_module_updated',
        '\core\event\course_module_deleted'],
    'course_deleted' => ['\core\event\course_deleted'],
];
foreach ($map as $method => $eventnames) {
    foreach ($eventnames as $eventname) {
        $observers[] = ['eventname' => $eventname, 'callback' => '\local_outlooksync\observer::' . $method];
    }
}
