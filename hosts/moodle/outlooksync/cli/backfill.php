<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Send every user, every face-to-face session and booking option not yet over and every booking to
 * the bridge now, through /hooks/batch.
 *
 *   php local/outlooksync/cli/backfill.php [--dry-run]
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../../config.php');
require_once($CFG->libdir . '/clilib.php');

[$options, $unrecognised] = cli_get_params(['dry-run' => false, 'help' => false], ['n' => 'dry-run', 'h' => 'help']);
if ($unrecognised) {
    cli_error(get_string('cliunknowoption', 'admin', implode(PHP_EOL . '  ', $unrecognised)));
}
if ($options['help']) {
    echo "Send every user, every face-to-face session and booking option not yet over and every booking
to the bridge.

Options:
  -n, --dry-run   count what would be sent; send and record nothing
  -h, --help      this help
";
    exit(0);
}

$runner = new \local_outlooksync\local\runner();
if (!$runner->ready()) {
    cli_error(get_string('notconfigured', 'local_outlooksync'));
}
$started = time();
$count = $runner->backfill((bool)$options['dry-run']);
if ($options['dry-run']) {
    cli_writeln("$count deliveries would be sent");
} else {
    set_config('reconciledupto', $started, 'local_outlooksync');
    set_config('backfilled', $started, 'local_outlooksync');
    cli_writeln("$count deliveries sent");
}
