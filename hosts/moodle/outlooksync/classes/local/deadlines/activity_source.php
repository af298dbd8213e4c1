<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local\deadlines;

use local_outlooksync\local\repository;

/**
 * Reads an activity with a due time (assignments, quizzes) into the snapshot items
 * \local_outlooksync\local\deadline documents: the activity, its own due time, and each learner it
 * applies to with their effective due time (Moodle's own override resolution, in the module's
 * subclass) and whether they are done.
 *
 * Who it applies to: users actively enrolled with the module's "submit" or "attempt" capability in
 * the activity's context (get_enrolled_users(), lib/enrollib.php, as mod_assign's list_participants()
 * does in mod/assign/locallib.php), who can also see the activity under its access restrictions
 * (\core_availability\info_module::filter_user_list(), availability/classes/info.php), so an activity
 * restricted to a group applies to its members only.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
abstract class activity_source implements \local_outlooksync\local\source {
    /** The module's name in course_modules and its table, e.g. "assign". */
    protected const MODULE = '';
    /** The capability a learner of the activity holds, e.g. "mod/assign:submit". */
    protected const CAPABILITY = '';
    /** The activity's column of its own due time (unix seconds, 0 = none). */
    protected const DUE = '';

    /**
     * Each learner's effective due time (extension, user or group override, else the activity's own).
     *
     * @param \stdClass $instance the activity's row
     * @param \cm_info $cm
     * @param int[] $userids
     * @return array user id => unix seconds (0 = no due time for that user)
     */
    abstract protected function dues(\stdClass $instance, \cm_info $cm, array $userids): array;

    /**
     * The learners who are done (submitted, finished).
     *
     * @param \stdClass $instance the activity's row
     * @param \cm_info $cm
     * @param int[] $userids
     * @return int[]
     */
    abstract protected function done(\stdClass $instance, \cm_info $cm, array $userids): array;

    /**
     * Activities with a user's own due time (override, extension) after a time.
     *
     * @param int $since unix seconds
     * @return int[] activity ids
     */
    abstract protected function later_own_dues(int $since): array;

    /**
     * Snapshot items; deleted activities are simply absent.
     *
     * @param int[] $ids activity ids (assign.id, quiz.id)
     * @return array list of snapshot items
     */
    public function snapshots(array $ids): array {
        global $DB;
        $ids = array_values(array_unique(array_map('intval', $ids)));
        if (!$ids) {
            return [];
        }
        [$in, $params] = $DB->get_in_or_equal($ids);
        $rows = $DB->get_records_select(static::MODULE, "id $in", $params);
        $items = [];
        foreach (repository::with_activity($ids, $rows, static::MODULE, 'id') as [$row, $activity]) {
            $cm = get_fast_modinfo($row->course, -1)->get_cm($activity['cmid']);
            $users = get_enrolled_users(\context_module::instance($cm->id), static::CAPABILITY, 0, 'u.id', null, 0, 0, true);
            $users = (new \core_availability\info_module($cm))->filter_user_list($users);
            $userids = array_map('intval', array_keys($users));
            $dues = $this->dues($row, $cm, $userids);
            $done = $this->done($row, $cm, $userids);
            $items[] = [
                'id' => (int)$row->id,
                'activity' => $activity,
                'due' => (int)$row->{static::DUE},
                'learners' => array_map(fn($id) => ['userid' => $id, 'due' => (int)($dues[$id] ?? 0),
                    'done' => in_array($id, $done, true)], $userids),
            ];
        }
        return $items;
    }

    /**
     * Nobody trains an assignment or a quiz (teachers are not session trainers).
     *
     * @param int[] $userids
     * @return int[] always empty
     */
    public function trainers(array $userids): array {
        return [];
    }

    /**
     * Activities whose own due time, or some user's, has not passed a day ago.
     *
     * @param int $now unix seconds
     * @return int[]
     */
    public function current(int $now): array {
        global $DB;
        $ids = $DB->get_fieldset_select(static::MODULE, 'id', static::DUE . ' > ?', [$now - DAYSECS]);
        $ids = array_merge(array_map('intval', $ids), $this->later_own_dues($now - DAYSECS));
        sort($ids);
        return array_values(array_unique($ids));
    }

    /**
     * Which of these activity ids still exist.
     *
     * @param int[] $ids
     * @return int[]
     */
    public function existing(array $ids): array {
        return repository::ids(static::MODULE, 'id', $ids);
    }

    /**
     * The activities themselves (each activity is one deadline).
     *
     * @param int[] $instanceids
     * @return int[]
     */
    public function of_activities(array $instanceids): array {
        return repository::ids(static::MODULE, 'id', $instanceids);
    }
}
