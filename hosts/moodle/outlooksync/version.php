<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * local_outlooksync: Moodle's face-to-face sessions and mod_booking options, and (when switched on)
 * assignments' due dates and quizzes' close times, in Outlook calendars, through the "Outlook Calendar for the LMS" bridge (its hooks, its Integrations page, and each
 * user's own page).
 *
 * Run on Moodle 4.3, 4.5 LTS and 5.0 (docs/MOODLE.md §6); 4.4, between them, was not run. Neither
 * booking module is required: face-to-face (mod_facetoface) and mod_booking are each read when installed.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'local_outlooksync';
$plugin->version = 2026120800;
$plugin->release = '0.3.0';
$plugin->requires = 2023100900; // Moodle 4.3.
$plugin->supported = [403, 500];
$plugin->maturity = MATURITY_BETA;
