<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\privacy;

use core_privacy\local\metadata\collection;
use core_privacy\local\request\approved_contextlist;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\contextlist;
use core_privacy\local\request\userlist;
use core_privacy\local\request\writer;
use local_outlooksync\local\user_page;

/**
 * What leaves Moodle: users' names, addresses, time zones and their face-to-face sessions go to
 * the "Outlook Calendar for the LMS" bridge, which writes them into Outlook calendars through
 * Microsoft Graph. The plugin's own table holds object keys (user and session ids), versions and
 * content hashes, no personal content; it is exported and deleted here (the system context). A user
 * offered a calendar feed keeps their feed's address in two user preferences, exported here.
 * Deleting a Moodle user sends user.deleted, after which the bridge removes that user's entries.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements \core_privacy\local\metadata\provider, \core_privacy\local\request\plugin\provider,
        \core_privacy\local\request\core_userlist_provider, \core_privacy\local\request\user_preference_provider {
    /** @var string */
    private const TABLE = 'local_outlooksync_state';

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
            'deadlines' => 'privacy:metadata:bridge:deadlines',
        ], 'privacy:metadata:bridge');
        $collection->add_database_table('local_outlooksync_state', [
            'objectkey' => 'privacy:metadata:state:objectkey',
            'version' => 'privacy:metadata:state:version',
            'hash' => 'privacy:metadata:state:hash',
        ], 'privacy:metadata:state');
        $collection->add_user_preference(user_page::URL_PREFERENCE, 'privacy:metadata:preference:feedurl');
        $collection->add_user_preference(user_page::ISSUED_PREFERENCE, 'privacy:metadata:preference:feedissued');
        return $collection;
    }

    /**
     * Export the user's calendar-feed address, if Moodle keeps one for them.
     *
     * @param int $userid
     */
    public static function export_user_preferences(int $userid): void {
        foreach ([user_page::URL_PREFERENCE => 'feedurl', user_page::ISSUED_PREFERENCE => 'feedissued'] as $name => $what) {
            $value = get_user_preferences($name, null, $userid);
            if ($value !== null) {
                writer::export_user_preference('local_outlooksync', $name, $value,
                    get_string('privacy:metadata:preference:' . $what, 'local_outlooksync'));
            }
        }
    }

    /**
     * The system context, when the plugin's table names the user.
     *
     * @param int $userid
     * @return contextlist
     */
    public static function get_contexts_for_userid(int $userid): contextlist {
        $contextlist = new contextlist();
        if (self::rows($userid)) {
            $contextlist->add_system_context();
        }
        return $contextlist;
    }

    /**
     * Users the plugin's table names (system context only).
     *
     * @param userlist $userlist
     */
    public static function get_users_in_context(userlist $userlist): void {
        global $DB;
        if (!$userlist->get_context() instanceof \context_system) {
            return;
        }
        $ids = [];
        foreach ($DB->get_fieldset_select(self::TABLE, 'objectkey', "scope <> ''") as $key) {
            $parts = explode('|', $key);
            if ($parts[0] !== 'event') {
                $ids[] = (int)end($parts);
            }
        }
        $userlist->add_users(array_values(array_unique($ids)));
    }

    /**
     * Export the objects kept for the user.
     *
     * @param approved_contextlist $contextlist
     */
    public static function export_user_data(approved_contextlist $contextlist): void {
        $userid = (int)$contextlist->get_user()->id;
        foreach ($contextlist as $context) {
            if ($context instanceof \context_system && ($rows = self::rows($userid))) {
                writer::with_context($context)->export_data([get_string('pluginname', 'local_outlooksync')],
                    (object)['sent' => array_values(array_map(fn($r) => ['object' => $r->objectkey,
                        'version' => $r->version, 'time' => \core_privacy\local\request\transform::datetime($r->timemodified)],
                        $rows))]);
            }
        }
    }

    /**
     * Forget everything sent (the next reconcile sends the current state again, with new versions).
     *
     * @param \context $context
     */
    public static function delete_data_for_all_users_in_context(\context $context): void {
        global $DB;
        if ($context instanceof \context_system) {
            $DB->delete_records(self::TABLE);
        }
    }

    /**
     * Forget what was sent for one user.
     *
     * @param approved_contextlist $contextlist
     */
    public static function delete_data_for_user(approved_contextlist $contextlist): void {
        global $DB;
        foreach ($contextlist as $context) {
            if ($context instanceof \context_system) {
                $DB->delete_records_list(self::TABLE, 'id', array_keys(self::rows((int)$contextlist->get_user()->id)));
            }
        }
    }

    /**
     * Forget what was sent for some users.
     *
     * @param approved_userlist $userlist
     */
    public static function delete_data_for_users(approved_userlist $userlist): void {
        global $DB;
        if ($userlist->get_context() instanceof \context_system) {
            foreach ($userlist->get_userids() as $userid) {
                $DB->delete_records_list(self::TABLE, 'id', array_keys(self::rows((int)$userid)));
            }
        }
    }

    /**
     * The rows that name a user: their user object and their enrollments.
     *
     * @param int $userid
     * @return array id => row
     */
    private static function rows(int $userid): array {
        global $DB;
        $like = $DB->sql_like('objectkey', ':enrollment');
        return $DB->get_records_select(self::TABLE, "objectkey = :user OR $like",
            ['user' => "user|$userid", 'enrollment' => $DB->sql_like_escape('enrollment|') . '%|' . $userid]);
    }
}
