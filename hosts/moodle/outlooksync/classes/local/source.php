<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * One booking module's tables as snapshots: face-to-face sessions (facetoface\source) or
 * mod_booking options (booking\source). Ids are the module's own ids of what a learner books.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
interface source {
    /**
     * Snapshot items (the shape the module's map documents); deleted ones are simply absent.
     *
     * @param int[] $ids
     * @return array list of snapshot items
     */
    public function snapshots(array $ids): array;

    /**
     * Which of these users train (or teach) anything in this module.
     *
     * @param int[] $userids
     * @return int[]
     */
    public function trainers(array $userids): array;

    /**
     * Ids with a date that has not ended a day ago (what a calendar still shows as coming).
     *
     * @param int $now unix seconds
     * @return int[]
     */
    public function current(int $now): array;

    /**
     * Which of these ids still exist.
     *
     * @param int[] $ids
     * @return int[]
     */
    public function existing(array $ids): array;

    /**
     * The ids of some activities (course module instances) of this module.
     *
     * @param int[] $instanceids
     * @return int[]
     */
    public function of_activities(array $instanceids): array;
}
