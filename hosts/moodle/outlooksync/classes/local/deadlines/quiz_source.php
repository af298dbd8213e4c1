<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local\deadlines;

/**
 * Quizzes (mod_quiz) as deadlines: the close time; per learner Moodle's own override resolution,
 * quiz_update_effective_access() (mod/quiz/lib.php: the user's override, else the most lenient of
 * their groups' overrides, a group override of 0 = no close), which mod_quiz\quiz_settings::create()
 * applies for a user (mod/quiz/classes/quiz_settings.php, Moodle 4.2+; the function itself exists in
 * 4.3 to 5.0); done when the learner has a finished attempt (quiz_attempts.state = "finished", not a preview).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class quiz_source extends activity_source {
    /** The module. */
    protected const MODULE = 'quiz';
    /** Who attempts (mod/quiz/db/access.php). */
    protected const CAPABILITY = 'mod/quiz:attempt';
    /** The close time column. */
    protected const DUE = 'timeclose';

    /**
     * The effective close time of each learner.
     *
     * @param \stdClass $instance
     * @param \cm_info $cm
     * @param int[] $userids
     * @return array user id => unix seconds
     */
    protected function dues(\stdClass $instance, \cm_info $cm, array $userids): array {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/mod/quiz/lib.php');
        $overridden = $DB->record_exists('quiz_overrides', ['quiz' => $instance->id]);
        $dues = [];
        foreach ($userids as $userid) {
            $dues[$userid] = (int)($overridden ? quiz_update_effective_access(clone $instance, $userid)->timeclose
                : $instance->timeclose);
        }
        return $dues;
    }

    /**
     * Learners with a finished attempt.
     *
     * @param \stdClass $instance
     * @param \cm_info $cm
     * @param int[] $userids
     * @return int[]
     */
    protected function done(\stdClass $instance, \cm_info $cm, array $userids): array {
        global $DB;
        $finished = $DB->get_fieldset_select('quiz_attempts', 'DISTINCT userid', "quiz = ? AND state = 'finished' AND preview = 0",
            [$instance->id]);
        return array_values(array_intersect($userids, array_map('intval', $finished)));
    }

    /**
     * Quizzes with an override closing after a time.
     *
     * @param int $since unix seconds
     * @return int[]
     */
    protected function later_own_dues(int $since): array {
        global $DB;
        return array_map('intval', $DB->get_fieldset_select('quiz_overrides', 'quiz', 'timeclose > ?', [$since]));
    }
}
