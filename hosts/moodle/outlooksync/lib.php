<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Callbacks of local_outlooksync.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

/**
 * Saving "enabled" on: queue the backfill that sends every user, session and booking.
 */
function local_outlooksync_enabled_changed(): void {
    if (get_config('local_outlooksync', 'enabled')) {
        \core\task\manager::queue_adhoc_task(new \local_outlooksync\task\backfill(), true);
    }
}
