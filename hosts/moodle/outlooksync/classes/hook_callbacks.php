<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync;

use local_outlooksync\local\user_page;

/**
 * Hook callbacks (db/hooks.php).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class hook_callbacks {
    /**
     * The user menu links the user's own Outlook Calendar page.
     *
     * The hook \core_user\hook\extend_user_menu exists from Moodle 4.5 (user/lib.php,
     * user_get_user_navigation_info()); on 4.3 it is never dispatched and the profile link remains.
     *
     * @param \core_user\hook\extend_user_menu $hook
     */
    public static function extend_user_menu(\core_user\hook\extend_user_menu $hook): void {
        global $USER;
        if (user_page::available_to($USER)) {
            $hook->add_navitem((object)['itemtype' => 'link', 'url' => new \moodle_url('/local/outlooksync/my.php'),
                'title' => get_string('mypage', 'local_outlooksync'), 'titleidentifier' => 'mypage,local_outlooksync']);
        }
    }
}
