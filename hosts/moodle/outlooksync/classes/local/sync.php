<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * One delivery round from a snapshot: objects, plan, envelopes, requests; plain PHP, no Moodle call.
 *
 * A snapshot is {site: {wwwroot, timezone}, users: [snapshot user], and for each kind of offering
 * or deadline (self::KINDS) the ids the round is about and the items read: sessionids + sessions
 * (face-to-face), optionids + options (mod_booking), assignids + assignments (mod_assign),
 * quizids + quizzes (mod_quiz)}. The ids include deleted ones (absent from the items), so that
 * what was sent for them before is deleted. The delivery task, the reconcile and backfill tasks and
 * the contract tests' harness all go through here, so what they send is the same.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class sync {
    /**
     * Per kind (the scope prefix): the snapshot's items and ids, and either the booking module's map
     * (offerings → events) or the activity module whose items are deadlines (see deadline).
     */
    public const KINDS = [
        facetoface\map::KIND => ['items' => 'sessions', 'ids' => 'sessionids', 'map' => facetoface\map::class],
        booking\map::KIND => ['items' => 'options', 'ids' => 'optionids', 'map' => booking\map::class],
        deadline::ASSIGN => ['items' => 'assignments', 'ids' => 'assignids', 'module' => 'assign'],
        deadline::QUIZ => ['items' => 'quizzes', 'ids' => 'quizids', 'module' => 'quiz'],
    ];

    /**
     * The objects Moodle has now for a snapshot.
     *
     * @param array $snapshot
     * @return array key => [topic, data]
     */
    public static function objects(array $snapshot): array {
        $objects = [];
        foreach ($snapshot['users'] ?? [] as $user) {
            $objects += mapper::user($user);
        }
        foreach (self::KINDS as $kind => $shape) {
            foreach ($snapshot[$shape['items']] ?? [] as $item) {
                $scope = $kind . ':' . $item['id'];
                if (isset($shape['module'])) {
                    $objects += deadline::objects($snapshot['site'], $shape['module'], $scope, $item);
                    continue;
                }
                $offering = $shape['map']::offering($snapshot['site'], $item);
                $objects += mapper::occurrences($snapshot['site'], $scope, $offering);
            }
        }
        return $objects;
    }

    /**
     * The users the snapshot's offerings and deadlines name (trainers, attendees, anyone who signed up
     * or answered, learners a deadline applies to).
     *
     * @param array $snapshot
     * @return int[]
     */
    public static function people(array $snapshot): array {
        $ids = [];
        foreach (self::KINDS as $shape) {
            foreach ($snapshot[$shape['items']] ?? [] as $item) {
                $ids = array_merge($ids, isset($shape['module']) ? deadline::people($item) : $shape['map']::people($item));
            }
        }
        return array_values(array_unique($ids));
    }

    /**
     * The scopes whose earlier objects must be looked up (one per offering named).
     *
     * @param array $snapshot
     * @return string[] scope names, e.g. "f2f:12", "bk:7", "as:4"
     */
    public static function scopes(array $snapshot): array {
        $scopes = [];
        foreach (self::KINDS as $kind => $shape) {
            $ids = $snapshot[$shape['ids']] ?? array_column($snapshot[$shape['items']] ?? [], 'id');
            foreach ($ids as $id) {
                $scopes[] = $kind . ':' . $id;
            }
        }
        return array_values(array_unique($scopes));
    }

    /**
     * The scope a key belongs to: "user", or "<kind>:<id>" of its offering.
     *
     * @param string $key
     * @return string
     */
    public static function scope_of(string $key): string {
        $parts = explode('|', $key);
        if ($parts[0] === 'user') {
            return 'user';
        }
        return implode(':', array_slice(explode(':', $parts[1]), 0, 2));
    }

    /**
     * The round: the planned actions and the requests that carry them (signed when sent, by client).
     *
     * @param array $snapshot
     * @param array $known key => {version, hash, sent}; only the objects' keys and the snapshot's scopes are
     *        looked at (an object of another scope that is not in the snapshot is not deleted)
     * @param string $account the LMS account id
     * @param int $now unix seconds
     * @param bool $batchonly true to send even a single delivery through /hooks/batch
     * @return array {actions: planner actions, requests: list of {path, body}}
     */
    public static function round(array $snapshot, array $known, string $account, int $now, bool $batchonly = false): array {
        $objects = self::objects($snapshot);
        $scopes = self::scopes($snapshot);
        $known = array_filter($known, fn($key) => array_key_exists($key, $objects)
            || in_array(self::scope_of($key), $scopes, true), ARRAY_FILTER_USE_KEY);
        $actions = planner::plan($objects, $known, $now);
        $envelopes = array_map(fn($action) => envelope::of($account, $action), $actions);
        $requests = array_map(fn($request) => ['path' => $request[0], 'body' => $request[1]],
            envelope::requests($envelopes, $batchonly));
        return ['actions' => $actions, 'requests' => $requests];
    }
}
