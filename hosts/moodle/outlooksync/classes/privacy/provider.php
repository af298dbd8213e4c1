<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\privacy;

use core_privacy\local\metadata\collection;

/**
 * What leaves Moodle: users' names, addresses, time zones and their face-to-face sessions go to
 * the "Outlook Calendar for the LMS" bridge, which writes them into Outlook calendars through
 * Microsoft Graph. The plugin's own table holds object keys (user and session ids), versions and
 * content hashes, no personal content.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements \core_privacy\local\metadata\provider {
    /**
     * Describe the data sent out and kept.
     *
     * @param collection $collection
     * @return collection
     */
    public static function get_metadata(collection $collection): collection {
        $collection->add_external_location_link('outlooksync_bridge', [
            'userid' => 'privacy:metadata:bridge:userid',
            'email' => 'privacy:metadata:bridge:email',
            'fullname' => 'privacy:metadata:bridge:fullname',
            'timezone' => 'privacy:metadata:bridge:timezone',
            'active' => 'privacy:metadata:bridge:active',
            'role' => 'privacy:metadata:bridge:role',
            'sessions' => 'privacy:metadata:bridge:sessions',
        ], 'privacy:metadata:bridge');
        $collection->add_database_table('local_outlooksync_state', [
            'objectkey' => 'privacy:metadata:state:objectkey',
            'version' => 'privacy:metadata:state:version',
            'hash' => 'privacy:metadata:state:hash',
        ], 'privacy:metadata:state');
        return $collection;
    }
}
