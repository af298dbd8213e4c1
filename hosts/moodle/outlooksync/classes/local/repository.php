<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * Reads Moodle and face-to-face tables into snapshots for the mapper (the shape mapper documents).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class repository {
    /** Face-to-face custom session fields read as the location, joined in this order. */
    private const LOCATION_FIELDS = ['location', 'venue', 'room'];
    /** Face-to-face custom session field read as the online meeting link. */
    private const ONLINE_FIELD = 'onlineurl';

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
     * @return array list of snapshot users
     */
    public function users(array $ids): array {
        global $DB;
        $ids = array_values(array_unique(array_map('intval', $ids)));
        if (!$ids) {
            return [];
        }
        [$in, $params] = $DB->get_in_or_equal($ids);
        $rows = $DB->get_records_select('user', "id $in", $params);
        $trainers = $DB->get_fieldset_select('facetoface_session_roles', 'DISTINCT userid', "userid $in", $params);
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
     * Snapshot sessions; deleted ones are simply absent.
     *
     * @param int[] $ids face-to-face session ids
     * @return array list of snapshot sessions
     */
    public function sessions(array $ids): array {
        global $DB;
        $ids = array_values(array_unique(array_map('intval', $ids)));
        if (!$ids) {
            return [];
        }
        [$in, $params] = $DB->get_in_or_equal($ids);
        $sessions = $DB->get_records_select('facetoface_sessions', "id $in", $params);
        $dates = $DB->get_records_select('facetoface_sessions_dates', "sessionid $in", $params, 'timestart, id');
        $roles = $DB->get_records_select('facetoface_session_roles', "sessionid $in", $params, 'id');
        $signups = $DB->get_records_sql("SELECT ss.id, s.sessionid, s.userid, ss.statuscode
                                           FROM {facetoface_signups} s
                                           JOIN {facetoface_signups_status} ss ON ss.signupid = s.id AND ss.superceded = 0
                                          WHERE s.sessionid $in ORDER BY s.id", $params);
        $fields = $DB->get_records_sql("SELECT d.id, d.sessionid, f.shortname, d.data
                                          FROM {facetoface_session_data} d
                                          JOIN {facetoface_session_field} f ON f.id = d.fieldid
                                         WHERE d.sessionid $in", $params);
        $activities = [];
        $snapshots = [];
        foreach ($ids as $id) {
            if (!isset($sessions[$id])) {
                continue;
            }
            $session = $sessions[$id];
            $activities[$session->facetoface] ??= $this->activity((int)$session->facetoface);
            if ($activities[$session->facetoface] === null) {
                continue;
            }
            $custom = [];
            foreach ($fields as $field) {
                if ((int)$field->sessionid === $id && trim((string)$field->data) !== '') {
                    $custom[$field->shortname] = trim($field->data);
                }
            }
            $location = array_filter(array_map(fn($name) => $custom[$name] ?? null, self::LOCATION_FIELDS));
            $snapshots[] = [
                'id' => $id,
                'facetoface' => $activities[$session->facetoface],
                'details' => (string)$session->details,
                'location' => implode(', ', $location),
                'onlineurl' => $custom[self::ONLINE_FIELD] ?? null,
                'dates' => array_values(array_map(fn($d) => ['timestart' => (int)$d->timestart, 'timefinish' => (int)$d->timefinish],
                    array_filter($dates, fn($d) => (int)$d->sessionid === $id))),
                'trainers' => array_values(array_unique(array_map(fn($r) => (int)$r->userid,
                    array_filter($roles, fn($r) => (int)$r->sessionid === $id)))),
                'signups' => array_values(array_map(fn($s) => ['userid' => (int)$s->userid, 'statuscode' => (int)$s->statuscode],
                    array_filter($signups, fn($s) => (int)$s->sessionid === $id))),
            ];
        }
        return $snapshots;
    }

    /**
     * The users a session snapshot names: its trainers and everyone who signed up.
     *
     * @param array $sessions snapshot sessions
     * @return int[]
     */
    public function people(array $sessions): array {
        $ids = [];
        foreach ($sessions as $session) {
            $ids = array_merge($ids, $session['trainers'], array_column($session['signups'], 'userid'));
        }
        return array_values(array_unique($ids));
    }

    /**
     * Session ids of face-to-face activities.
     *
     * @param int[] $facetofaceids
     * @return int[]
     */
    public function sessions_of(array $facetofaceids): array {
        global $DB;
        if (!$facetofaceids) {
            return [];
        }
        [$in, $params] = $DB->get_in_or_equal($facetofaceids);
        return array_map('intval', $DB->get_fieldset_select('facetoface_sessions', 'id', "facetoface $in", $params));
    }

    /**
     * Sessions with a date that has not ended a day ago (the ones a calendar still shows as coming).
     *
     * @param int $now unix seconds
     * @return int[]
     */
    public function current_sessions(int $now): array {
        global $DB;
        return array_map('intval', $DB->get_fieldset_sql('SELECT DISTINCT sessionid FROM {facetoface_sessions_dates}
                                                              WHERE timefinish > ? ORDER BY sessionid', [$now - DAYSECS]));
    }

    /**
     * Which of these session ids still exist.
     *
     * @param int[] $ids
     * @return int[]
     */
    public function existing_sessions(array $ids): array {
        global $DB;
        if (!$ids) {
            return [];
        }
        [$in, $params] = $DB->get_in_or_equal($ids);
        return array_map('intval', $DB->get_fieldset_select('facetoface_sessions', 'id', "id $in", $params));
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
     * A face-to-face activity as a snapshot, or null when it or its course module is gone.
     *
     * @param int $id facetoface id
     * @return array|null {id, cmid, name, intro, visible}
     */
    private function activity(int $id): ?array {
        global $DB;
        $row = $DB->get_record('facetoface', ['id' => $id]);
        $cm = $row ? get_coursemodule_from_instance('facetoface', $id, $row->course) : false;
        if (!$row || !$cm) {
            return null;
        }
        return ['id' => $id, 'cmid' => (int)$cm->id, 'name' => format_string($row->name, true, ['escape' => false]),
            'intro' => (string)$row->intro, 'visible' => (int)$cm->visible];
    }
}
