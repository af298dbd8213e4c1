<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local\booking;

/**
 * A mod_booking booking option as an offering of the mapper; plain PHP, no Moodle call.
 *
 * Snapshot option (what source reads, and the recorded fixtures hold): {id, booking: {id, cmid,
 * name, intro, visible}, text, description, location, institution, address, status,
 * coursestarttime, courseendtime, dates: [{timestart, timefinish, teachers: [user id]}]
 * (booking_optiondates with booking_optiondates_teachers), teachers: [user id] (booking_teachers, in
 * row order), answers: [{userid, waitinglist}] (booking_answers)}.
 *
 * Sources: mod/booking/db/install.xml and lib.php of mod_booking 9.6 (Wunderbyte-GmbH/moodle-mod_booking):
 * booking_answers.waitinglist holds the MOD_BOOKING_STATUSPARAM_* of the answer, BOOKED = 0 being
 * the only one that holds a place (1 waiting list, 2 reserved, 3 notify me, 4 not booked,
 * 5 deleted, 6 previously booked); booking_options.status = 1 is a cancelled option
 * (booking_option::cancelbookingoption). An option's dates are its booking_optiondates; an option
 * without any, but with coursestarttime and courseendtime, takes place once, then.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class map {
    /** The scope prefix of booking options: events "bk:<option id>:<n>". */
    public const KIND = 'bk';
    /** booking_answers.waitinglist of an answer that holds a place (MOD_BOOKING_STATUSPARAM_BOOKED). */
    public const BOOKED = 0;
    /** booking_options.status of a cancelled option. */
    public const CANCELLED = 1;

    /**
     * The option as an offering: its name, its description (else the activity's intro), its page,
     * location, institution and address joined; cancelled when the option was cancelled or the
     * activity is hidden; each date with its own teachers; the booked users.
     *
     * @param array $site {wwwroot, timezone}
     * @param array $option a snapshot option
     * @return array an offering (see \local_outlooksync\local\mapper)
     */
    public static function offering(array $site, array $option): array {
        $activity = $option['booking'];
        $description = trim((string)($option['description'] ?? ''));
        $place = array_filter(array_map(fn($f) => trim((string)($option[$f] ?? '')), ['location', 'institution', 'address']),
            fn($part) => $part !== '');
        $dates = $option['dates'];
        if (!$dates && (int)$option['coursestarttime'] > 0 && (int)$option['courseendtime'] > 0) {
            $dates = [['timestart' => (int)$option['coursestarttime'], 'timefinish' => (int)$option['courseendtime']]];
        }
        $booked = array_filter($option['answers'], fn($a) => (int)$a['waitinglist'] === self::BOOKED);
        return [
            'title' => (string)$option['text'],
            'description' => $description !== '' ? $description : (string)($activity['intro'] ?? ''),
            'url' => rtrim((string)$site['wwwroot'], '/') . '/mod/booking/optionview.php?optionid=' . $option['id']
                . '&cmid=' . $activity['cmid'],
            'location' => implode(', ', array_unique($place)),
            'online_url' => null,
            'cancelled' => (int)$option['status'] === self::CANCELLED || empty($activity['visible']),
            'dates' => array_map(fn($d) => ['timestart' => (int)$d['timestart'], 'timefinish' => (int)$d['timefinish'],
                'trainers' => $d['teachers'] ?? []], $dates),
            'trainers' => $option['teachers'],
            'attendees' => array_values(array_column($booked, 'userid')),
        ];
    }

    /**
     * The users an option names: its teachers, its dates' teachers and everyone who answered.
     *
     * @param array $option a snapshot option
     * @return int[]
     */
    public static function people(array $option): array {
        $ids = array_merge($option['teachers'], array_column($option['answers'], 'userid'));
        foreach ($option['dates'] as $date) {
            $ids = array_merge($ids, $date['teachers'] ?? []);
        }
        return array_map('intval', $ids);
    }
}
