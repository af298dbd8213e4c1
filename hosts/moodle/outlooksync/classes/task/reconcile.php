<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\task;

use local_outlooksync\local\runner;

/**
 * Scheduled task: find what no event said.
 *
 * Face-to-face fires nothing when a manager adds or removes attendees, when trainers change, or
 * when its calendar rows change; mod_booking writes some changes without an event; and Moodle fires
 * no event of its own for a suspension made by some paths, nor for a setting forced in config.php.
 * Every 5 minutes this task:
 * - queues the backfill when the plugin is on and no backfill ran since it was last seen off (so
 *   switching it on by any route, the settings page, `admin/cli/cfg.php` or config.php, sends
 *   everything within 5 minutes);
 * - re-reads every session and booking option not yet over, the users changed since its last run and
 *   those who manage the integration, and what vanished; the stored hashes make unchanged objects
 *   cost no request.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class reconcile extends \core\task\scheduled_task {
    /**
     * Name shown in the task list.
     *
     * @return string
     */
    public function get_name(): string {
        return get_string('taskreconcile', 'local_outlooksync');
    }

    /**
     * Send whatever differs from what was sent.
     *
     * @throws \moodle_exception when the bridge does not accept it
     */
    public function execute(): void {
        $runner = new runner();
        if (!$runner->ready()) {
            backfill::noticed(false);
            return;
        }
        if (!get_config('local_outlooksync', 'backfilled')) {
            backfill::noticed(true);
            mtrace('local_outlooksync: switched on; backfill queued');
            return;
        }
        $started = time();
        $since = (int)get_config('local_outlooksync', 'reconciledupto');
        $count = $runner->send_all($runner->repository()->changed_users($since), $runner->current($started));
        set_config('reconciledupto', $started, 'local_outlooksync');
        mtrace("local_outlooksync: reconcile sent $count deliveries");
    }
}
