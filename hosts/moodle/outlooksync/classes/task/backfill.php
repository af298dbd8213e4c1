<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\task;

use local_outlooksync\local\runner;

/**
 * Adhoc task queued when the plugin is switched on: every user, every session and booking option
 * not yet over and every booking, through /hooks/batch. Running it again is harmless (versions and
 * hashes).
 *
 * Switching on is noticed however it is done: the settings page and `admin/cli/cfg.php` both log
 * the change (config_log_created, seen by the observer); a value forced in config.php is seen by
 * the reconcile task. The setting `backfilled` (unix seconds of the last backfill, 0 once the
 * plugin was seen off) says whether one is owed.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class backfill extends \core\task\adhoc_task {
    /**
     * The plugin was seen switched on (queue the backfill, once) or off (the next switch-on owes one).
     *
     * @param bool $on
     */
    public static function noticed(bool $on): void {
        if ($on) {
            \core\task\manager::queue_adhoc_task(new self(), true);
        } else if (get_config('local_outlooksync', 'backfilled')) {
            set_config('backfilled', 0, 'local_outlooksync');
        }
    }

    /**
     * Send everything.
     *
     * @throws \moodle_exception when the bridge does not accept it (the task is then retried)
     */
    public function execute(): void {
        $runner = new runner();
        if (!$runner->ready()) {
            mtrace('local_outlooksync: switched off or not configured; nothing sent');
            return;
        }
        $started = time();
        $count = $runner->backfill();
        set_config('reconciledupto', $started, 'local_outlooksync');
        set_config('backfilled', $started, 'local_outlooksync');
        mtrace("local_outlooksync: backfill sent $count deliveries");
    }
}
