<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * Hook request bodies from planned actions; plain PHP, no Moodle call.
 *
 * One delivery goes to /hooks as its envelope {id, topic, account, data}; several go to
 * /hooks/batch as {"deliveries": [...]}, split so that no batch holds more than 1,000 deliveries
 * or more than 900 KiB (the plugin refuses bodies over 1 MiB).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class envelope {
    /** Path of a single delivery. */
    public const HOOK_PATH = '/hooks';
    /** Path of a batch. */
    public const BATCH_PATH = '/hooks/batch';
    /** Most deliveries in one batch (the plugin's limit). */
    public const MAX_BATCH = 1000;
    /** Most bytes in one batch body, under the plugin's 1 MiB limit. */
    public const MAX_BYTES = 900 * 1024;

    /**
     * The envelope of one planned action.
     *
     * @param string $account the LMS account id
     * @param array $action a planner action
     * @return array {id, topic, account, data}
     */
    public static function of(string $account, array $action): array {
        return ['id' => $action['id'], 'topic' => $action['topic'], 'account' => $account, 'data' => $action['data']];
    }

    /**
     * JSON as the plugin reads it (UTF-8, no escaped slashes).
     *
     * @param array $value
     * @return string
     */
    public static function json(array $value): string {
        return json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }

    /**
     * The requests that carry these envelopes, in order.
     *
     * @param array $envelopes list of envelopes
     * @param bool $batchonly true to use /hooks/batch even for one delivery (backfill)
     * @return array list of [path, body]
     */
    public static function requests(array $envelopes, bool $batchonly = false): array {
        if (count($envelopes) === 1 && !$batchonly) {
            return [[self::HOOK_PATH, self::json($envelopes[0])]];
        }
        $requests = [];
        $chunk = [];
        $size = 0;
        foreach ($envelopes as $envelope) {
            $bytes = strlen(self::json($envelope)) + 1;
            if ($chunk && (count($chunk) >= self::MAX_BATCH || $size + $bytes > self::MAX_BYTES)) {
                $requests[] = [self::BATCH_PATH, self::json(['deliveries' => $chunk])];
                $chunk = [];
                $size = 0;
            }
            $chunk[] = $envelope;
            $size += $bytes;
        }
        if ($chunk) {
            $requests[] = [self::BATCH_PATH, self::json(['deliveries' => $chunk])];
        }
        return $requests;
    }
}
