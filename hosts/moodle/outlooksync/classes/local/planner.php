<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * What to send: the objects Moodle has now against what was sent before; plain PHP, no Moodle call.
 *
 * Every object (key from mapper) has a stored {version, hash, sent}. An object whose content hash
 * is unchanged and was sent is skipped. A changed one gets a new version, greater than the last
 * and at least the current unix second (so versions keep growing even if the plugin's table were
 * emptied), and a delivery id "<topic>:<object id>:<version>". A retry resends the same id and
 * version, which the plugin acknowledges once; a late or repeated delivery carries an older
 * version, which the plugin ignores. Objects sent before that are gone from Moodle are deleted.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class planner {
    /**
     * The deliveries that bring the plugin to Moodle's current state.
     *
     * @param array $desired key => [topic, data] (mapper output)
     * @param array $known key => {version: int, hash: string, sent: bool}: what was sent for these
     *        keys and, for a scope, every key of that scope sent before
     * @param int $now unix seconds
     * @return array list of {key, topic, data (with version), version, hash, id}, in key order
     */
    public static function plan(array $desired, array $known, int $now): array {
        foreach (array_keys($known) as $key) {
            if (!array_key_exists($key, $desired)) {
                $desired[$key] = mapper::deletion($key);
            }
        }
        ksort($desired, SORT_STRING);
        $actions = [];
        foreach ($desired as $key => [$topic, $data]) {
            $hash = self::hash($topic, $data);
            $before = $known[$key] ?? null;
            if ($before !== null && $before['hash'] === $hash) {
                if (!empty($before['sent'])) {
                    continue;
                }
                $version = (int)$before['version'];  // the unsent attempt again, same id
            } else if ($before === null && str_ends_with($topic, '.deleted')) {
                continue;  // never sent, nothing to delete
            } else {
                $version = max((int)($before['version'] ?? 0) + 1, $now);
            }
            $data['version'] = $version;
            $object = $data['id'] ?? (($data['event_id'] ?? $data['deadline_id']) . ':' . $data['user_id']);
            $actions[] = ['key' => $key, 'topic' => $topic, 'data' => $data, 'version' => $version,
                'hash' => $hash, 'id' => "$topic:$object:$version"];
        }
        return $actions;
    }

    /**
     * A content hash of an object (without its version).
     *
     * @param string $topic
     * @param array $data
     * @return string 64 hex digits
     */
    public static function hash(string $topic, array $data): string {
        unset($data['version']);
        return hash('sha256', $topic . "\n" . json_encode($data, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
    }
}
