<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Callbacks Moodle looks up in lib.php.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

use local_outlooksync\local\user_page;

/**
 * The profile's Miscellaneous section links the user's own Outlook Calendar page (their own profile only).
 *
 * user/classes/output/myprofile/manager.php calls <plugin>_myprofile_navigation (Moodle 4.3 to 5.x).
 *
 * @param \core_user\output\myprofile\tree $tree
 * @param stdClass $user the profile's user
 * @param bool $iscurrentuser
 * @param stdClass|null $course
 */
function local_outlooksync_myprofile_navigation(\core_user\output\myprofile\tree $tree, $user, $iscurrentuser, $course): void {
    if ($iscurrentuser && user_page::available_to($user)) {
        $tree->add_node(new \core_user\output\myprofile\node('miscellaneous', 'local_outlooksync',
            get_string('mypage', 'local_outlooksync'), null, new moodle_url('/local/outlooksync/my.php')));
    }
}
