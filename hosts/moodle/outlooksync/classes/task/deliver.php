<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\task;

use local_outlooksync\local\facetoface\map as facetoface;
use local_outlooksync\local\runner;

/**
 * Adhoc task: send the current state of what an observer named.
 *
 * Custom data: {users?: int[], targets?: {kind: int[]} (e.g. {"f2f": [session ids], "bk": [option ids]}),
 * activities?: {module: int[]} (e.g. {"booking": [booking ids]}), orphans?: bool}; tasks queued by
 * version 0.1 ({sessions, facetofaces}) are read too. The task reads Moodle when it runs, not when it
 * was queued, so late or repeated tasks send the latest state (and nothing when it was already sent).
 * When the bridge refuses or cannot be reached the task throws; Moodle retries it with back-off
 * (60 s, doubling, up to a day).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class deliver extends \core\task\adhoc_task {
    /**
     * Queue a delivery when the plugin is switched on (identical pending tasks are merged).
     *
     * @param array $what {users?, targets?, activities?, orphans?}
     */
    public static function queue(array $what): void {
        if (!get_config('local_outlooksync', 'enabled')) {
            return;
        }
        $task = new self();
        $task->set_custom_data($what);
        \core\task\manager::queue_adhoc_task($task, true);
    }

    /**
     * Send it.
     *
     * @throws \moodle_exception when the bridge does not accept it (the task is then retried)
     */
    public function execute(): void {
        $runner = new runner();
        if (!$runner->ready()) {
            mtrace('local_outlooksync: switched off or not configured; nothing sent');
            return;
        }
        $what = json_decode($this->get_custom_data_as_string() ?: '{}', true) ?: [];
        $targets = $what['targets'] ?? [];
        if (isset($what['sessions'])) {
            $targets[facetoface::KIND] = array_merge($targets[facetoface::KIND] ?? [], $what['sessions']);
        }
        $activities = ($what['activities'] ?? []) + (isset($what['facetofaces']) ? ['facetoface' => $what['facetofaces']] : []);
        foreach ([$runner->of_activities($activities), !empty($what['orphans']) ? $runner->orphans() : []] as $more) {
            foreach ($more as $kind => $ids) {
                $targets[$kind] = array_merge($targets[$kind] ?? [], $ids);
            }
        }
        $count = $runner->send_all(array_map('intval', $what['users'] ?? []), $targets);
        mtrace("local_outlooksync: $count deliveries sent");
    }
}
