<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * Moodle rows → the host contract's objects (docs/HOST-CONTRACT.md); plain PHP, no Moodle call.
 *
 * Input is a "snapshot": what the plugin reads from Moodle, as arrays (the same shape as the
 * recorded fixtures in tests/moodle/fixtures/). Users are mapped here; each booking module's own
 * rows (face-to-face sessions, mod_booking options) are first turned into an "offering" by that
 * module's map (facetoface\map, booking\map), and every offering into events here:
 *
 * - site: {wwwroot, timezone (IANA)}
 * - user: {id, email, name, suspended, deleted, auth, timezone (IANA), primaryadmin, siteadmin, manager, trainer}
 * - offering: {title, description, url, location, online_url, cancelled,
 *   dates: [{timestart, timefinish (unix seconds), trainers?: [user id]}], trainers: [user id, first = organizer],
 *   attendees: [user id]}: a date's own trainers, when it has any, replace the offering's for that date.
 *
 * Output is a map "key" => [topic, data without version]; keys name the object
 * ("user|<id>", "event|<event id>", "enrollment|<event id>|<user id>") and are what versions and
 * delivery ids are kept against (see planner).
 *
 * An offering with several dates becomes one hook event per date ("<scope>:<n>", n = 1.. in date
 * order, each with one session): the contract gives one session per learner and event, and a booked
 * learner attends every date, so each date must be its own event. Face-to-face deletes and
 * re-inserts its date rows on every edit, so the date's position, not its row id, names it.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class mapper {
    /** organizer_id of a date without a trainer: a user id no Moodle user has, so nobody gets an organizer entry. */
    public const NO_TRAINER = 'no-trainer';

    /**
     * The contract role of a Moodle user.
     *
     * The primary site admin owns the account; other site admins and holders of
     * local/outlooksync:manage administer it; trainers of any session or booking option are instructors.
     *
     * @param array $user a snapshot user (flags primaryadmin, siteadmin, manager, trainer)
     * @return string owner|admin|instructor|learner
     */
    public static function role(array $user): string {
        if (!empty($user['primaryadmin'])) {
            return 'owner';
        }
        if (!empty($user['siteadmin']) || !empty($user['manager'])) {
            return 'admin';
        }
        return empty($user['trainer']) ? 'learner' : 'instructor';
    }

    /**
     * One user's object: user.upserted, or user.deleted for a deleted Moodle user.
     *
     * Suspended users and those whose authentication is "nologin" are sent as inactive.
     *
     * @param array $user a snapshot user
     * @return array key => [topic, data]
     */
    public static function user(array $user): array {
        $id = (string)$user['id'];
        if (!empty($user['deleted'])) {
            return ["user|$id" => ['user.deleted', ['id' => $id]]];
        }
        $data = [
            'id' => $id,
            'email' => (string)$user['email'],
            'name' => (string)$user['name'],
            'active' => empty($user['suspended']) && ($user['auth'] ?? '') !== 'nologin',
            'role' => self::role($user),
        ];
        if (!empty($user['timezone'])) {
            $data['timezone'] = (string)$user['timezone'];
        }
        return ["user|$id" => ['user.upserted', $data]];
    }

    /**
     * The events and enrollments of one offering.
     *
     * Each date is an event with one session. The first trainer (of the date, else of the offering)
     * organizes it; the other trainers and every attendee are enrolled in that session. A date of
     * 0/0 (face-to-face's placeholder for "date not known yet") has no event.
     *
     * @param array $site {wwwroot, timezone}
     * @param string $scope the offering's name, e.g. "f2f:12" or "bk:7"; its events are "<scope>:<n>"
     * @param array $offering see the class comment
     * @return array key => [topic, data]
     * @throws \InvalidArgumentException when the site time zone is not an IANA name or a date ends before it starts
     */
    public static function occurrences(array $site, string $scope, array $offering): array {
        $zone = new \DateTimeZone((string)$site['timezone']);
        $dates = array_values(array_filter($offering['dates'],
            fn($d) => (int)$d['timestart'] !== 0 || (int)$d['timefinish'] !== 0));
        usort($dates, fn($a, $b) => [$a['timestart'], $a['timefinish']] <=> [$b['timestart'], $b['timefinish']]);
        $objects = [];
        $count = count($dates);
        foreach ($dates as $index => $date) {
            if ((int)$date['timefinish'] <= (int)$date['timestart']) {
                throw new \InvalidArgumentException("$scope has a date that ends before it starts");
            }
            $trainers = array_values(array_map('strval', ($date['trainers'] ?? []) ?: $offering['trainers']));
            $organizer = $trainers[0] ?? self::NO_TRAINER;
            $attendees = array_merge(array_slice($trainers, 1), array_map('strval', $offering['attendees']));
            $attendees = array_values(array_unique(array_diff($attendees, [$organizer])));
            $eventid = $scope . ':' . ($index + 1);
            $objects["event|$eventid"] = ['event.upserted', [
                'id' => $eventid,
                'title' => (string)$offering['title'] . ($count > 1 ? ' (' . ($index + 1) . '/' . $count . ')' : ''),
                'description' => (string)$offering['description'],
                'organizer_id' => $organizer,
                'url' => (string)$offering['url'],
                'location' => self::text($offering['location'] ?? null),
                'online_url' => self::web_url($offering['online_url'] ?? null),
                'timezone' => $zone->getName(),
                'cancelled' => !empty($offering['cancelled']),
                'sessions' => [[
                    'id' => $eventid,
                    'start' => self::instant((int)$date['timestart'], $zone),
                    'end' => self::instant((int)$date['timefinish'], $zone),
                ]],
            ]];
            foreach ($attendees as $userid) {
                $objects["enrollment|$eventid|$userid"] = ['enrollment.upserted',
                    ['event_id' => $eventid, 'user_id' => $userid, 'session_id' => $eventid]];
            }
        }
        return $objects;
    }

    /**
     * The deletion that undoes an object sent before, from its key.
     *
     * @param string $key "user|<id>", "event|<id>", "enrollment|<event id>|<user id>", "deadline|<id>"
     *        or "learner_deadline|<deadline id>|<user id>"
     * @return array [topic, data]
     * @throws \InvalidArgumentException for a key of no known kind
     */
    public static function deletion(string $key): array {
        $parts = explode('|', $key);
        switch ($parts[0]) {
            case 'user':
                return ['user.deleted', ['id' => $parts[1]]];
            case 'event':
                return ['event.deleted', ['id' => $parts[1]]];
            case 'enrollment':
                return ['enrollment.deleted', ['event_id' => $parts[1], 'user_id' => $parts[2]]];
            case 'deadline':
                return ['deadline.deleted', ['id' => $parts[1]]];
            case 'learner_deadline':
                return ['learner_deadline.deleted', ['deadline_id' => $parts[1], 'user_id' => $parts[2]]];
        }
        throw new \InvalidArgumentException("no object kind in key '$key'");
    }

    /**
     * RFC 3339 with the offset of the zone at that instant.
     *
     * @param int $unix seconds
     * @param \DateTimeZone $zone
     * @return string e.g. 2030-03-30T09:00:00+02:00
     */
    public static function instant(int $unix, \DateTimeZone $zone): string {
        return (new \DateTimeImmutable('@' . $unix))->setTimezone($zone)->format(DATE_RFC3339);
    }

    /**
     * Trimmed text, or null when empty.
     *
     * @param mixed $value
     * @return string|null
     */
    private static function text($value): ?string {
        $text = trim(strip_tags((string)$value));
        return $text === '' ? null : mb_substr($text, 0, 512);
    }

    /**
     * An http(s) URL, or null (anything else typed into the field is not a link).
     *
     * @param mixed $value
     * @return string|null
     */
    private static function web_url($value): ?string {
        $url = trim((string)$value);
        return preg_match('~^https?://[^\s]+$~i', $url) && strlen($url) <= 2048 ? $url : null;
    }
}
