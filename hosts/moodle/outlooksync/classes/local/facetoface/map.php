<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local\facetoface;

/**
 * A face-to-face session (mod_facetoface) as an offering of the mapper; plain PHP, no Moodle call.
 *
 * Snapshot session (what source reads, and the recorded fixtures hold): {id, facetoface: {id, cmid,
 * name, intro, visible}, details, location, onlineurl, dates: [{timestart, timefinish}],
 * trainers: [user id] (facetoface_session_roles, in row order), signups: [{userid, statuscode}]
 * (each sign-up's current, not superseded, status)}.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class map {
    /** The scope prefix of face-to-face sessions: events "f2f:<session id>:<n>". */
    public const KIND = 'f2f';
    /** Face-to-face status codes (mod/facetoface/lib.php) that hold a seat: booked (70) and attendance outcomes. */
    public const SEATED = [70, 80, 90, 100];

    /**
     * The session as an offering: the activity's name, the session's details (else the activity's
     * intro), the activity's page, the custom fields' place and link, hidden activity = cancelled;
     * trainers in order, and everyone whose sign-up holds a seat.
     *
     * @param array $site {wwwroot, timezone}
     * @param array $session a snapshot session
     * @return array an offering (see \local_outlooksync\local\mapper)
     */
    public static function offering(array $site, array $session): array {
        $activity = $session['facetoface'];
        $details = trim((string)($session['details'] ?? ''));
        $seated = array_filter($session['signups'], fn($s) => in_array((int)$s['statuscode'], self::SEATED, true));
        return [
            'title' => (string)$activity['name'],
            'description' => $details !== '' ? $details : (string)($activity['intro'] ?? ''),
            'url' => rtrim((string)$site['wwwroot'], '/') . '/mod/facetoface/view.php?id=' . $activity['cmid'],
            'location' => $session['location'] ?? null,
            'online_url' => $session['onlineurl'] ?? null,
            'cancelled' => empty($activity['visible']),
            'dates' => $session['dates'],
            'trainers' => $session['trainers'],
            'attendees' => array_values(array_column($seated, 'userid')),
        ];
    }

    /**
     * The users a session names: its trainers and everyone who signed up.
     *
     * @param array $session a snapshot session
     * @return int[]
     */
    public static function people(array $session): array {
        return array_map('intval', array_merge($session['trainers'], array_column($session['signups'], 'userid')));
    }
}
