<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * Sends Moodle's current state of some users and sessions to the bridge.
 *
 * A round reads the snapshot, plans against the stored versions (sync::round), records the plan
 * as unsent, POSTs it, and marks it sent on 200/202. Any other answer, or none, throws: the
 * calling task fails and Moodle runs it again later with back-off, resending the same delivery
 * ids and versions.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class runner {
    /** Sessions per round (each round is one snapshot and at most a few requests). */
    public const SESSIONS_PER_ROUND = 50;
    /** Users per round. */
    public const USERS_PER_ROUND = 500;

    /** @var repository */
    private $repository;
    /** @var state */
    private $state;
    /** @var transport */
    private $transport;
    /** @var \stdClass the plugin's settings */
    private $config;

    /**
     * @param transport|null $transport what POSTs (a test passes its own)
     * @param repository|null $repository
     */
    public function __construct(?transport $transport = null, ?repository $repository = null) {
        $this->transport = $transport ?? new transport();
        $this->repository = $repository ?? new repository();
        $this->state = new state();
        $this->config = get_config('local_outlooksync');
    }

    /**
     * Whether the plugin is switched on and has what it needs to send.
     *
     * @return bool
     */
    public function ready(): bool {
        return !empty($this->config->enabled) && !empty($this->config->bridgeurl) && !empty($this->config->secret)
            && !empty($this->config->account);
    }

    /**
     * Send users and sessions (with the people of those sessions).
     *
     * @param int[] $userids
     * @param int[] $sessionids sessions, deleted ones included (their objects are then deleted)
     * @param bool $batchonly true to use /hooks/batch even for one delivery
     * @param bool $dryrun plan and return the actions without sending or recording anything
     * @return array the actions sent (or planned)
     * @throws \moodle_exception when the bridge does not accept a request
     */
    public function send(array $userids, array $sessionids, bool $batchonly = false, bool $dryrun = false): array {
        // One round at a time on the whole site: two rounds planning the same object in the same second could
        // otherwise give two contents one version, and the bridge would keep the first.
        $lock = \core\lock\lock_config::get_lock_factory('local_outlooksync')->get_lock('round', 120);
        if (!$lock) {
            throw new \moodle_exception('locktimeout');
        }
        try {
            return $this->round($userids, $sessionids, $batchonly, $dryrun);
        } finally {
            $lock->release();
        }
    }

    /**
     * One round, under the lock.
     *
     * @param int[] $userids
     * @param int[] $sessionids
     * @param bool $batchonly
     * @param bool $dryrun
     * @return array the actions sent (or planned)
     * @throws \moodle_exception when the bridge does not accept a request
     */
    private function round(array $userids, array $sessionids, bool $batchonly, bool $dryrun): array {
        $sessions = $this->repository->sessions($sessionids);
        $snapshot = [
            'site' => $this->repository->site(),
            'users' => $this->repository->users(array_merge($userids, $this->repository->people($sessions))),
            'sessionids' => array_values(array_unique(array_map('intval', $sessionids))),
            'sessions' => $sessions,
        ];
        $objects = sync::objects($snapshot);
        $known = $this->state->known(array_keys($objects), sync::scopes($snapshot));
        $round = sync::round($snapshot, $known, (string)$this->config->account, (string)$this->config->secret, time(), $batchonly);
        if ($dryrun || !$round['actions']) {
            return $round['actions'];
        }
        $this->state->record($round['actions'], false);
        foreach ($round['requests'] as $request) {
            $url = rtrim((string)$this->config->bridgeurl, '/') . $request['path'];
            [$status, $response] = $this->transport->post($url, $request['headers'], $request['body'],
                !empty($this->config->privatenetwork));
            if ($status !== 200 && $status !== 202) {
                throw new \moodle_exception('bridgerefused', 'local_outlooksync', '', (object)[
                    'url' => $url, 'status' => $status, 'response' => shorten_text(strip_tags($response), 500)]);
            }
        }
        $this->state->record($round['actions'], true);
        return $round['actions'];
    }

    /**
     * Send sessions and users in rounds of bounded size.
     *
     * @param int[] $userids
     * @param int[] $sessionids
     * @param bool $batchonly
     * @param bool $dryrun
     * @return int the number of objects sent (or planned; a dry run counts each object once)
     */
    public function send_all(array $userids, array $sessionids, bool $batchonly = false, bool $dryrun = false): int {
        $keys = [];
        foreach (array_chunk(array_values(array_unique($userids)), self::USERS_PER_ROUND) as $chunk) {
            $keys += array_flip(array_column($this->send($chunk, [], $batchonly, $dryrun), 'key'));
        }
        foreach (array_chunk(array_values(array_unique($sessionids)), self::SESSIONS_PER_ROUND) as $chunk) {
            $keys += array_flip(array_column($this->send([], $chunk, $batchonly, $dryrun), 'key'));
        }
        return count($keys);
    }

    /**
     * Sessions objects were sent for that no longer exist (their activity or course was deleted).
     *
     * @return int[]
     */
    public function orphans(): array {
        $known = $this->state->session_ids();
        return array_values(array_diff($known, $this->repository->existing_sessions($known)));
    }

    /**
     * Everything: every user, every session not yet over, and deletions for sessions gone.
     *
     * @param bool $dryrun
     * @return int objects sent (or planned)
     */
    public function backfill(bool $dryrun = false): int {
        $users = [];
        $after = 0;
        while ($ids = $this->repository->all_users($after, self::USERS_PER_ROUND)) {
            $users = array_merge($users, $ids);
            $after = end($ids);
        }
        $sessions = array_merge($this->repository->current_sessions(time()), $this->orphans());
        return $this->send_all($users, $sessions, true, $dryrun);
    }

    /**
     * The repository, for tasks that resolve activities to sessions.
     *
     * @return repository
     */
    public function repository(): repository {
        return $this->repository;
    }
}
