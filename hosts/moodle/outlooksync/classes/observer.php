<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync;

use local_outlooksync\local\booking\map as booking;
use local_outlooksync\local\facetoface\map as facetoface;
use local_outlooksync\local\sources;
use local_outlooksync\task\backfill;
use local_outlooksync\task\deliver;

/**
 * Event observers. Each only queues a task naming what changed; no HTTP here.
 *
 * They run inside the caller's transaction, so the task is queued exactly when the change commits.
 * The task re-reads Moodle when it runs, so several queued tasks for one object send its latest
 * state once.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class observer {
    /**
     * A face-to-face session was added, updated or deleted, or a sign-up made or cancelled.
     *
     * @param \core\event\base $event objectid is the session id
     */
    public static function session_changed(\core\event\base $event): void {
        deliver::queue(['targets' => [facetoface::KIND => [(int)$event->objectid]]]);
    }

    /**
     * A mod_booking option, one of its dates, teachers or bookings changed.
     *
     * Every such event of mod_booking 9.6 names the option as objectid, except those about one
     * option date (objecttable booking_optiondates), which name the option in other.optionid.
     *
     * @param \core\event\base $event
     */
    public static function booking_changed(\core\event\base $event): void {
        $optionid = $event->objecttable === 'booking_optiondates' ? ($event->other['optionid'] ?? null) : $event->objectid;
        if ($optionid) {
            deliver::queue(['targets' => [booking::KIND => [(int)$optionid]]]);
        }
    }

    /**
     * An assignment's or a quiz's own event (a submission, an extension, an override, a finished
     * attempt): queue the delivery of that activity's deadline. Their context is the activity's module
     * context, so contextinstanceid is the course module id.
     *
     * @param \core\event\base $event
     */
    public static function deadline_changed(\core\event\base $event): void {
        if (!get_config('local_outlooksync', 'deadlines') || $event->contextlevel != CONTEXT_MODULE) {
            return;
        }
        $cm = get_coursemodule_from_id('', $event->contextinstanceid, 0, false, IGNORE_MISSING);
        if ($cm) {
            deliver::queue(['activities' => [$cm->modname => [(int)$cm->instance]]]);
        }
    }

    /**
     * Who a course's deadlines apply to changed (an enrolment, a group membership, which group
     * overrides follow): queue the delivery of the course's assignments and quizzes.
     *
     * @param \core\event\base $event
     */
    public static function course_learners_changed(\core\event\base $event): void {
        global $DB;
        if (!get_config('local_outlooksync', 'deadlines') || !$event->courseid || $event->courseid == SITEID) {
            return;
        }
        $activities = [];
        foreach (['assign', 'quiz'] as $module) {
            $ids = array_map('intval', $DB->get_fieldset_select($module, 'id', 'course = ?', [$event->courseid]));
            if ($ids) {
                $activities[$module] = $ids;
            }
        }
        if ($activities) {
            deliver::queue(['activities' => $activities]);
        }
    }

    /**
     * A user was created, updated (suspension, name, address, time zone) or deleted.
     *
     * @param \core\event\base $event objectid is the user id
     */
    public static function user_changed(\core\event\base $event): void {
        deliver::queue(['users' => [(int)$event->objectid]]);
    }

    /**
     * A role was given or taken away in the system context: the user's contract role may change.
     *
     * @param \core\event\base $event relateduserid is the user
     */
    public static function role_changed(\core\event\base $event): void {
        if ($event->contextlevel == CONTEXT_SYSTEM && $event->relateduserid) {
            deliver::queue(['users' => [(int)$event->relateduserid]]);
        }
    }

    /**
     * A setting changed and was logged (the settings page and admin/cli/cfg.php both log): the site
     * administrators list decides owner and admin roles, and switching the plugin on owes a backfill.
     *
     * @param \core\event\base $event other: name, value, oldvalue, plugin
     */
    public static function config_changed(\core\event\base $event): void {
        $other = $event->other;
        if (($other['plugin'] ?? '') === 'local_outlooksync' && ($other['name'] ?? '') === 'enabled') {
            backfill::noticed((string)($other['value'] ?? '') === '1');
            return;
        }
        if (($other['name'] ?? '') !== 'siteadmins' || !empty($other['plugin'])) {
            return;
        }
        $ids = array_merge(explode(',', (string)($other['value'] ?? '')), explode(',', (string)($other['oldvalue'] ?? '')));
        $ids = array_values(array_unique(array_filter(array_map('intval', $ids))));
        if ($ids) {
            deliver::queue(['users' => $ids]);
        }
    }

    /**
     * A face-to-face, booking, assignment or quiz activity was created, updated (e.g. hidden: its events
     * are cancelled; a due date moved) or deleted.
     *
     * @param \core\event\base $event other: modulename, instanceid
     */
    public static function activity_changed(\core\event\base $event): void {
        $module = (string)($event->other['modulename'] ?? '');
        if (sources::kind_of_module($module) === null) {
            return;
        }
        if ($event->eventname === '\core\event\course_module_deleted') {
            deliver::queue(['orphans' => true]);
        } else {
            deliver::queue(['activities' => [$module => [(int)$event->other['instanceid']]]]);
        }
    }

    /**
     * A course was deleted: the sessions and options of its activities are gone.
     *
     * @param \core\event\base $event
     */
    public static function course_deleted(\core\event\base $event): void {
        deliver::queue(['orphans' => true]);
    }
}
