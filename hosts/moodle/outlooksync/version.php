<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * local_outlooksync: Moodle's face-to-face sessions in Outlook calendars, through the
 * "Outlook Calendar for the LMS" bridge (its hooks and its Integrations page).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'local_outlooksync';
$plugin->version = 2026113000;
$plugin->release = '0.1.0';
$plugin->requires = 2023100900; // Moodle 4.3.
$plugin->supported = [403, 403];
$plugin->maturity = MATURITY_BETA;
$plugin->dependencies = ['mod_facetoface' => ANY_VERSION];
