<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * Reads Moodle's own tables (the site, users, activities) into snapshots for the mapper; the booking
 * modules' tables are read by their sources (facetoface\source, booking\source).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class repository {
    /**
     * The site: its address and its time zone (IANA; "99" resolved to the server's zone).
     *
     * @return array {wwwroot, timezone}
     */
    public function site(): array {
        global $CFG;
        return ['wwwroot' => $CFG->wwwroot, 'timezone' => \core_date::get_server_timezone()];
    }

    /**
     * Snapshot users; an id with no user row left is a deleted user.
     *
     * @param int[] $ids
     * @param int[] $trainers the ids among them who train or teach anything (the sources say)
     * @return array list of snapshot users
     */
    public function users(array $ids, array $trainers): array {
        global $DB;
        $ids = array_values(array_unique(array_map('intval', $ids)));
        if (!$ids) {
            return [];
        }
        [$in, $params] = $DB->get_in_or_equal($ids);
        $rows = $DB->get_records_select('user', "id $in", $params);
        $primary = get_admin();
        $system = \context_system::instance();
        $users = [];
        foreach ($ids as $id) {
            $row = $rows[$id] ?? null;
            if ($row === null || $row->deleted) {
                $users[] = ['id' => $id, 'deleted' => 1];
                continue;
            }
            if (isguestuser($row)) {
                continue;
            }
            $users[] = [
                'id' => $id, 'email' => $row->email, 'name' => fullname($row), 'suspended' => (int)$row->suspended,
                'deleted' => 0, 'auth' => $row->auth, 'timezone' => \core_date::get_user_timezone($row),
                'primaryadmin' => $primary && (int)$primary->id === $id, 'siteadmin' => is_siteadmin($id),
                'manager' => has_capability('local/outlooksync:manage', $system, $id),
                'trainer' => in_array($id, array_map('intval', $trainers), true),
            ];
        }
        return $users;
    }

    /**
     * Users changed since a time, and those who manage the integration (site admins, capability holders).
     *
     * @param int $since unix seconds
     * @return int[]
     */
    public function changed_users(int $since): array {
        global $DB, $CFG;
        $ids = array_map('intval', $DB->get_fieldset_select('user', 'id', 'timemodified >= ?', [$since]));
        $ids = array_merge($ids, array_map('intval', explode(',', $CFG->siteadmins)));
        $holders = get_users_by_capability(\context_system::instance(), 'local/outlooksync:manage', 'u.id');
        return array_values(array_unique(array_merge($ids, array_map('intval', array_keys($holders)))));
    }

    /**
     * Every user that is not deleted and not the guest, in id order, a page at a time.
     *
     * @param int $after the last id of the previous page
     * @param int $limit
     * @return int[]
     */
    public function all_users(int $after, int $limit): array {
        global $DB, $CFG;
        $rows = $DB->get_records_select('user', 'id > ? AND deleted = 0 AND id <> ?', [$after, $CFG->siteguest],
            'id', 'id', 0, $limit);
        return array_map('intval', array_keys($rows));
    }

    /**
     * One column of the rows of a table whose other column holds one of some values, once each.
     *
     * @param string $table e.g. "booking_options"
     * @param string $column the column the values are looked up in
     * @param int[] $values
     * @param string $field the column returned
     * @param string $where more conditions (SQL, no parameters), or ""
     * @return int[]
     */
    public static function ids(string $table, string $column, array $values, string $field = 'id', string $where = ''): array {
        global $DB;
        if (!$values) {
            return [];
        }
        [$in, $params] = $DB->get_in_or_equal(array_values(array_unique(array_map('intval', $values))));
        $select = "$column $in" . ($where === '' ? '' : " AND $where");
        return array_map('intval', $DB->get_fieldset_select($table, "DISTINCT $field", $select, $params));
    }

    /**
     * The rows of some ids whose activity still exists, each with its activity, in the ids' order.
     *
     * @param int[] $ids
     * @param array $rows id => record (missing ids are skipped: deleted)
     * @param string $module the module's name, e.g. "facetoface" or "booking"
     * @param string $instance the rows' column that holds the activity's instance id
     * @return array list of [record, activity snapshot]
     */
    public static function with_activity(array $ids, array $rows, string $module, string $instance): array {
        $activities = [];
        $found = [];
        foreach ($ids as $id) {
            if (!isset($rows[$id])) {
                continue;
            }
            $of = (int)$rows[$id]->$instance;
            if (!array_key_exists($of, $activities)) {
                $activities[$of] = self::activity($module, $of);
            }
            if ($activities[$of] !== null) {
                $found[] = [$rows[$id], $activities[$of]];
            }
        }
        return $found;
    }

    /**
     * An activity as a snapshot, or null when it or its course module is gone.
     *
     * @param string $module the module's name, e.g. "facetoface" or "booking"
     * @param int $id the instance id (facetoface.id, booking.id)
     * @return array|null {id, cmid, name, intro, visible}
     */
    public static function activity(string $module, int $id): ?array {
        global $DB;
        $row = $DB->get_record($module, ['id' => $id]);
        $cm = $row ? get_coursemodule_from_instance($module, $id, $row->course) : false;
        if (!$row || !$cm) {
            return null;
        }
        return ['id' => $id, 'cmid' => (int)$cm->id, 'name' => format_string($row->name, true, ['escape' => false]),
            'intro' => (string)$row->intro, 'visible' => (int)$cm->visible];
    }
}
