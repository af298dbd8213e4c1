<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local\deadlines;

/**
 * Assignments (mod_assign) as deadlines: the due date; per learner a granted extension
 * (assign_user_flags.extensionduedate), else Moodle's own override resolution (assign::override_exists():
 * the user's override, else the group override with the lowest sort order; mod/assign/locallib.php),
 * else the due date; done when the learner's latest submission (or, for team submissions, their
 * group's, assign::get_submission_group()) has the status "submitted".
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class assign_source extends activity_source {
    /** The module. */
    protected const MODULE = 'assign';
    /** Who submits (mod/assign/db/access.php). */
    protected const CAPABILITY = 'mod/assign:submit';
    /** The due date column. */
    protected const DUE = 'duedate';

    /**
     * Extension, else override, else the due date.
     *
     * @param \stdClass $instance
     * @param \cm_info $cm
     * @param int[] $userids
     * @return array user id => unix seconds
     */
    protected function dues(\stdClass $instance, \cm_info $cm, array $userids): array {
        global $DB;
        $extensions = $DB->get_records_select_menu('assign_user_flags', 'assignment = ? AND extensionduedate > 0',
            [$instance->id], '', 'userid, extensionduedate');
        $assign = $DB->record_exists('assign_overrides', ['assignid' => $instance->id]) ? $this->assign($cm) : null;
        $dues = [];
        foreach ($userids as $userid) {
            $due = $assign ? ($assign->override_exists($userid)->duedate ?? $instance->duedate) : $instance->duedate;
            $dues[$userid] = (int)($extensions[$userid] ?? $due);
        }
        return $dues;
    }

    /**
     * Learners whose (or whose team's) latest submission is submitted.
     *
     * @param \stdClass $instance
     * @param \cm_info $cm
     * @param int[] $userids
     * @return int[]
     */
    protected function done(\stdClass $instance, \cm_info $cm, array $userids): array {
        global $DB;
        $select = "assignment = ? AND latest = 1 AND status = 'submitted'";
        if (empty($instance->teamsubmission)) {
            $submitted = $DB->get_fieldset_select('assign_submission', 'userid', "$select AND userid <> 0", [$instance->id]);
            return array_values(array_intersect($userids, array_map('intval', $submitted)));
        }
        $groups = array_map('intval', $DB->get_fieldset_select('assign_submission', 'groupid', "$select AND userid = 0",
            [$instance->id]));
        $assign = $this->assign($cm);
        return array_values(array_filter($userids, function(int $userid) use ($assign, $groups): bool {
            $group = $assign->get_submission_group($userid);
            return in_array($group ? (int)$group->id : 0, $groups, true);
        }));
    }

    /**
     * Assignments with an override or an extension due after a time.
     *
     * @param int $since unix seconds
     * @return int[]
     */
    protected function later_own_dues(int $since): array {
        global $DB;
        return array_map('intval', array_merge(
            $DB->get_fieldset_select('assign_overrides', 'assignid', 'duedate > ?', [$since]),
            $DB->get_fieldset_select('assign_user_flags', 'assignment', 'extensionduedate > ?', [$since])));
    }

    /**
     * Moodle's assign object of an activity.
     *
     * @param \cm_info $cm
     * @return \assign
     */
    private function assign(\cm_info $cm): \assign {
        global $CFG;
        require_once($CFG->dirroot . '/mod/assign/locallib.php');
        return new \assign(\context_module::instance($cm->id), $cm, $cm->get_course());
    }
}
