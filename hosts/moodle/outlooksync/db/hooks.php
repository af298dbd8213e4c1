<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Hook callbacks. The hook is named by a string, not ::class, and the callback as "class::method", the
 * form Moodle 4.3's hook manager takes; on 4.3 the hook class does not exist and is never dispatched.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$callbacks = [
    ['hook' => 'core_user\hook\extend_user_menu', 'callback' => '\local_outlooksync\hook_callbacks::extend_user_menu'],
];
