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
 * A snapshot is {site: {wwwroot, timezone}, users: [snapshot user], sessionids: [id],
 * sessions: [snapshot session]}: sessionids names every session the round is about, including
 * deleted ones (absent from sessions), so that what was sent for them before is deleted.
 * The delivery task, the reconcile and backfill tasks and the contract tests' harness all go
 * through here, so what they send is the same.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class sync {
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
        foreach ($snapshot['sessions'] ?? [] as $session) {
            $objects += mapper::session($snapshot['site'], $session);
        }
        return $objects;
    }

    /**
     * The scopes whose earlier objects must be looked up (one per session named).
     *
     * @param array $snapshot
     * @return string[] scope names, e.g. "f2f:12"
     */
    public static function scopes(array $snapshot): array {
        $ids = $snapshot['sessionids'] ?? array_column($snapshot['sessions'] ?? [], 'id');
        return array_values(array_unique(array_map(fn($id) => 'f2f:' . $id, $ids)));
    }

    /**
     * The scope a key belongs to: "user" or "f2f:<session id>".
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
     * The round: the planned actions and the signed requests that carry them.
     *
     * @param array $snapshot
     * @param array $known key => {version, hash, sent}; only the objects' keys and the snapshot's scopes are
     *        looked at (an object of another scope that is not in the snapshot is not deleted)
     * @param string $account the LMS account id
     * @param string $secret the host secret
     * @param int $now unix seconds
     * @param bool $batchonly true to send even a single delivery through /hooks/batch
     * @return array {actions: planner actions, requests: list of {path, headers (lines), body}}
     */
    public static function round(array $snapshot, array $known, string $account, string $secret, int $now,
            bool $batchonly = false): array {
        $objects = self::objects($snapshot);
        $scopes = self::scopes($snapshot);
        $known = array_filter($known, fn($key) => array_key_exists($key, $objects)
            || in_array(self::scope_of($key), $scopes, true), ARRAY_FILTER_USE_KEY);
        $actions = planner::plan($objects, $known, $now);
        $envelopes = array_map(fn($action) => envelope::of($account, $action), $actions);
        $requests = [];
        foreach (envelope::requests($envelopes, $batchonly) as [$path, $body]) {
            $requests[] = ['path' => $path, 'headers' => signer::headers($secret, $now, $body), 'body' => $body];
        }
        return ['actions' => $actions, 'requests' => $requests];
    }
}
