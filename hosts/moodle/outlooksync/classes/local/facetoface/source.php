<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local\facetoface;

use local_outlooksync\local\repository;

/**
 * Reads face-to-face's tables (mod_facetoface: sessions, dates, trainers, sign-ups, custom fields)
 * into the snapshot sessions facetoface\map documents.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class source implements \local_outlooksync\local\source {
    /** Custom session fields read as the location, joined in this order (face-to-face's db/upgrade.php defaults). */
    private const LOCATION_FIELDS = ['location', 'venue', 'room'];
    /** Custom session field read as the online meeting link. */
    private const ONLINE_FIELD = 'onlineurl';

    /**
     * Snapshot sessions; deleted ones are simply absent.
     *
     * @param int[] $ids face-to-face session ids
     * @return array list of snapshot sessions
     */
    public function snapshots(array $ids): array {
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
        $snapshots = [];
        foreach (repository::with_activity($ids, $sessions, 'facetoface', 'facetoface') as [$session, $activity]) {
            $id = (int)$session->id;
            $custom = [];
            foreach ($fields as $field) {
                if ((int)$field->sessionid === $id && trim((string)$field->data) !== '') {
                    $custom[$field->shortname] = trim($field->data);
                }
            }
            $location = array_filter(array_map(fn($name) => $custom[$name] ?? null, self::LOCATION_FIELDS));
            $snapshots[] = [
                'id' => $id,
                'facetoface' => $activity,
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
     * Which of these users are trainers of any session.
     *
     * @param int[] $userids
     * @return int[]
     */
    public function trainers(array $userids): array {
        return repository::ids('facetoface_session_roles', 'userid', $userids, 'userid');
    }

    /**
     * Sessions with a date that has not ended a day ago.
     *
     * @param int $now unix seconds
     * @return int[]
     */
    public function current(int $now): array {
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
    public function existing(array $ids): array {
        return repository::ids('facetoface_sessions', 'id', $ids);
    }

    /**
     * Session ids of face-to-face activities.
     *
     * @param int[] $instanceids facetoface ids
     * @return int[]
     */
    public function of_activities(array $instanceids): array {
        return repository::ids('facetoface_sessions', 'facetoface', $instanceids);
    }
}
