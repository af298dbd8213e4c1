<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local\booking;

use local_outlooksync\local\repository;

/**
 * Reads mod_booking's tables (booking_options, booking_optiondates, booking_teachers,
 * booking_optiondates_teachers, booking_answers; mod/booking/db/install.xml) into the snapshot
 * options booking\map documents. Options of no booking activity (bookingid 0: templates) are skipped.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class source implements \local_outlooksync\local\source {
    /**
     * Snapshot options; deleted ones (and templates) are simply absent.
     *
     * @param int[] $ids booking option ids
     * @return array list of snapshot options
     */
    public function snapshots(array $ids): array {
        global $DB;
        $ids = array_values(array_unique(array_map('intval', $ids)));
        if (!$ids) {
            return [];
        }
        [$in, $params] = $DB->get_in_or_equal($ids);
        $options = $DB->get_records_select('booking_options', "id $in AND bookingid <> 0", $params);
        $dates = $DB->get_records_select('booking_optiondates', "optionid $in", $params, 'coursestarttime, id',
            'id, optionid, coursestarttime, courseendtime');
        $dateteachers = $DB->get_records_sql("SELECT t.id, t.optiondateid, t.userid
                                                FROM {booking_optiondates_teachers} t
                                                JOIN {booking_optiondates} d ON d.id = t.optiondateid
                                               WHERE d.optionid $in ORDER BY t.id", $params);
        $teachers = $DB->get_records_select('booking_teachers', "optionid $in", $params, 'id', 'id, optionid, userid');
        $answers = $DB->get_records_select('booking_answers', "optionid $in", $params, 'id', 'id, optionid, userid, waitinglist');
        $snapshots = [];
        foreach (repository::with_activity($ids, $options, 'booking', 'bookingid') as [$option, $activity]) {
            $id = (int)$option->id;
            $snapshots[] = [
                'id' => $id,
                'booking' => $activity,
                'text' => format_string($option->text, true, ['escape' => false]),
                'description' => (string)$option->description,
                'location' => (string)$option->location,
                'institution' => (string)$option->institution,
                'address' => (string)$option->address,
                'status' => (int)$option->status,
                'coursestarttime' => (int)$option->coursestarttime,
                'courseendtime' => (int)$option->courseendtime,
                'dates' => array_values(array_map(fn($d) => ['timestart' => (int)$d->coursestarttime,
                    'timefinish' => (int)$d->courseendtime, 'teachers' => self::userids($dateteachers, 'optiondateid', (int)$d->id)],
                    array_filter($dates, fn($d) => (int)$d->optionid === $id))),
                'teachers' => self::userids($teachers, 'optionid', $id),
                'answers' => array_values(array_map(fn($a) => ['userid' => (int)$a->userid, 'waitinglist' => (int)$a->waitinglist],
                    array_filter($answers, fn($a) => (int)$a->optionid === $id))),
            ];
        }
        return $snapshots;
    }

    /**
     * Which of these users teach any option or option date.
     *
     * @param int[] $userids
     * @return int[]
     */
    public function trainers(array $userids): array {
        return array_values(array_unique(array_merge(repository::ids('booking_teachers', 'userid', $userids, 'userid'),
            repository::ids('booking_optiondates_teachers', 'userid', $userids, 'userid'))));
    }

    /**
     * Options with a date (or, without dates, an end) that has not ended a day ago.
     *
     * @param int $now unix seconds
     * @return int[]
     */
    public function current(int $now): array {
        global $DB;
        $since = $now - DAYSECS;
        $ids = array_merge(
            $DB->get_fieldset_sql('SELECT DISTINCT optionid FROM {booking_optiondates} WHERE courseendtime > ?', [$since]),
            $DB->get_fieldset_sql('SELECT id FROM {booking_options} WHERE courseendtime > ? AND bookingid <> 0', [$since]));
        $ids = array_values(array_unique(array_map('intval', $ids)));
        sort($ids);
        return $ids;
    }

    /**
     * Which of these option ids still exist.
     *
     * @param int[] $ids
     * @return int[]
     */
    public function existing(array $ids): array {
        return repository::ids('booking_options', 'id', $ids, 'id', 'bookingid <> 0');
    }

    /**
     * Option ids of booking activities.
     *
     * @param int[] $instanceids booking ids
     * @return int[]
     */
    public function of_activities(array $instanceids): array {
        return repository::ids('booking_options', 'bookingid', $instanceids);
    }

    /**
     * The user ids of the rows that belong to one parent, in row order, once each.
     *
     * @param array $rows records with userid and the parent column
     * @param string $parent the parent column
     * @param int $id the parent id
     * @return int[]
     */
    private static function userids(array $rows, string $parent, int $id): array {
        return array_values(array_unique(array_map(fn($r) => (int)$r->userid,
            array_filter($rows, fn($r) => (int)$r->$parent === $id))));
    }
}
