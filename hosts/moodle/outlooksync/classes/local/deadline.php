<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * An activity with a due time (an assignment's due date, a quiz's close time) → the host contract's
 * deadline.* and learner_deadline.* objects (docs/HOST-CONTRACT.md); plain PHP, no Moodle call.
 *
 * Snapshot item (what deadlines\assign_source and deadlines\quiz_source read, and the recorded
 * fixtures hold): {id, activity: {id, cmid, name, intro, visible}, due: unix seconds (0 = none),
 * learners: [{userid, due: this user's effective due, unix seconds (0 = none for them), done: bool}]}.
 * Each learner's due is already resolved by Moodle (extension, user override, group override).
 *
 * The objects: "deadline|<id>" => deadline.upserted {id, title, description, url, due, timezone};
 * "learner_deadline|<id>|<user id>" => learner_deadline.upserted {deadline_id, user_id, due, done},
 * where due is null when it is the deadline's own. An activity that is hidden or has no due time has
 * no objects (what was sent for it before is then deleted by the planner), and so has a learner
 * whose own due time was removed.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class deadline {
    /** The scope prefix of assignments (mod_assign): deadline "as:<assign id>". */
    public const ASSIGN = 'as';
    /** The scope prefix of quizzes (mod_quiz): deadline "qz:<quiz id>". */
    public const QUIZ = 'qz';

    /**
     * The deadline and its learners' rows.
     *
     * @param array $site {wwwroot, timezone (IANA)}
     * @param string $module the activity's module, "assign" or "quiz" (its page is /mod/<module>/view.php)
     * @param string $id the deadline's id, e.g. "as:4" (1–128 characters)
     * @param array $item a snapshot item (see the class comment)
     * @return array key => [topic, data without version]
     * @throws \InvalidArgumentException when the site time zone is not an IANA name
     */
    public static function objects(array $site, string $module, string $id, array $item): array {
        $activity = $item['activity'];
        $due = (int)$item['due'];
        if ($due <= 0 || empty($activity['visible'])) {
            return [];
        }
        $zone = new \DateTimeZone((string)$site['timezone']);
        $objects = ["deadline|$id" => ['deadline.upserted', [
            'id' => $id,
            'title' => (string)$activity['name'],
            'description' => (string)($activity['intro'] ?? ''),
            'url' => rtrim((string)$site['wwwroot'], '/') . "/mod/$module/view.php?id=" . $activity['cmid'],
            'due' => mapper::instant($due, $zone),
            'timezone' => $zone->getName(),
        ]]];
        foreach ($item['learners'] as $learner) {
            $own = (int)$learner['due'];
            if ($own <= 0) {
                continue;
            }
            $userid = (string)$learner['userid'];
            $objects["learner_deadline|$id|$userid"] = ['learner_deadline.upserted', [
                'deadline_id' => $id,
                'user_id' => $userid,
                'due' => $own === $due ? null : mapper::instant($own, $zone),
                'done' => !empty($learner['done']),
            ]];
        }
        return $objects;
    }

    /**
     * The users an item names: its learners.
     *
     * @param array $item a snapshot item
     * @return int[]
     */
    public static function people(array $item): array {
        return array_map('intval', array_column($item['learners'], 'userid'));
    }
}
