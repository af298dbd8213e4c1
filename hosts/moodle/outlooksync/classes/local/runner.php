<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * Sends Moodle's current state of some users and offerings to the bridge.
 *
 * Offerings are named by "targets": kind => ids, e.g. ['f2f' => [face-to-face session ids],
 * 'bk' => [booking option ids]]. A round reads the snapshot, plans against the stored versions
 * (sync::round), records the plan as unsent, POSTs it, and marks it sent on 200/202. Any other
 * answer, or none, throws: the calling task fails and Moodle runs it again later with back-off,
 * resending the same delivery ids and versions.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class runner {
    /** Offerings per round (each round is one snapshot and at most a few requests). */
    public const OFFERINGS_PER_ROUND = 50;
    /** Users per round. */
    public const USERS_PER_ROUND = 500;

    /** @var repository */
    private $repository;
    /** @var state */
    private $state;
    /** @var client */
    private $client;
    /** @var source[] kind => source, the installed booking modules */
    private $sources;
    /** @var \stdClass the plugin's settings */
    private $config;

    /**
     * @param client|null $client what POSTs (a test passes its own)
     * @param repository|null $repository
     * @param source[]|null $sources kind => source (default: the installed modules)
     */
    public function __construct(?client $client = null, ?repository $repository = null, ?array $sources = null) {
        $this->config = get_config('local_outlooksync');
        $this->client = $client ?? new client($this->config);
        $this->repository = $repository ?? new repository();
        $this->sources = $sources ?? sources::installed();
        $this->state = new state();
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
     * Send users and offerings (with the people of those offerings).
     *
     * @param int[] $userids
     * @param array $targets kind => ids, deleted ones included (their objects are then deleted)
     * @param bool $batchonly true to use /hooks/batch even for one delivery
     * @param bool $dryrun plan and return the actions without sending or recording anything
     * @return array the actions sent (or planned)
     * @throws \moodle_exception when the bridge does not accept a request
     */
    public function send(array $userids, array $targets, bool $batchonly = false, bool $dryrun = false): array {
        // One round at a time on the whole site: two rounds planning the same object in the same second could
        // otherwise give two contents one version, and the bridge would keep the first.
        $lock = \core\lock\lock_config::get_lock_factory('local_outlooksync')->get_lock('round', 120);
        if (!$lock) {
            throw new \moodle_exception('locktimeout');
        }
        try {
            return $this->round($userids, $targets, $batchonly, $dryrun);
        } finally {
            $lock->release();
        }
    }

    /**
     * The snapshot of some users and offerings: the offerings read by their modules' sources (a
     * module no longer installed has none left, so what was sent for it is deleted), and the users
     * named with everyone the offerings name.
     *
     * @param int[] $userids
     * @param array $targets kind => ids
     * @return array a snapshot (see sync)
     */
    public function snapshot(array $userids, array $targets): array {
        $snapshot = ['site' => $this->repository->site()];
        foreach (sync::KINDS as $kind => $shape) {
            $ids = array_values(array_unique(array_map('intval', $targets[$kind] ?? [])));
            $snapshot[$shape['ids']] = $ids;
            $snapshot[$shape['items']] = isset($this->sources[$kind]) ? $this->sources[$kind]->snapshots($ids) : [];
        }
        $people = array_values(array_unique(array_merge(array_map('intval', $userids), sync::people($snapshot))));
        $trainers = [];
        foreach ($this->sources as $source) {
            $trainers = array_merge($trainers, $source->trainers($people));
        }
        $snapshot['users'] = $this->repository->users($people, $trainers);
        return $snapshot;
    }

    /**
     * One round, under the lock.
     *
     * @param int[] $userids
     * @param array $targets
     * @param bool $batchonly
     * @param bool $dryrun
     * @return array the actions sent (or planned)
     * @throws \moodle_exception when the bridge does not accept a request
     */
    private function round(array $userids, array $targets, bool $batchonly, bool $dryrun): array {
        $snapshot = $this->snapshot($userids, $targets);
        $known = $this->state->known(array_keys(sync::objects($snapshot)), sync::scopes($snapshot));
        $round = sync::round($snapshot, $known, (string)$this->config->account, time(), $batchonly);
        if ($dryrun || !$round['actions']) {
            return $round['actions'];
        }
        $this->state->record($round['actions'], false);
        foreach ($round['requests'] as $request) {
            [$status, $response] = $this->client->post($request['path'], $request['body']);
            if ($status !== 200 && $status !== 202) {
                throw new \moodle_exception('bridgerefused', 'local_outlooksync', '', (object)[
                    'url' => $this->client->url($request['path']), 'status' => $status,
                    'response' => shorten_text(strip_tags($response), 500)]);
            }
        }
        $this->state->record($round['actions'], true);
        return $round['actions'];
    }

    /**
     * Send users and offerings in rounds of bounded size.
     *
     * @param int[] $userids
     * @param array $targets kind => ids
     * @param bool $batchonly
     * @param bool $dryrun
     * @return int the number of objects sent (or planned; a dry run counts each object once)
     */
    public function send_all(array $userids, array $targets, bool $batchonly = false, bool $dryrun = false): int {
        $keys = [];
        foreach (array_chunk(array_values(array_unique($userids)), self::USERS_PER_ROUND) as $chunk) {
            $keys += array_flip(array_column($this->send($chunk, [], $batchonly, $dryrun), 'key'));
        }
        foreach ($targets as $kind => $ids) {
            foreach (array_chunk(array_values(array_unique($ids)), self::OFFERINGS_PER_ROUND) as $chunk) {
                $keys += array_flip(array_column($this->send([], [$kind => $chunk], $batchonly, $dryrun), 'key'));
            }
        }
        return count($keys);
    }

    /**
     * Offerings objects were sent for that no longer exist (deleted, or their activity, course or module gone).
     *
     * @return array kind => ids
     */
    public function orphans(): array {
        $orphans = [];
        foreach ($this->state->sent_ids() as $kind => $ids) {
            $left = isset($this->sources[$kind]) ? $this->sources[$kind]->existing($ids) : [];
            $orphans[$kind] = array_values(array_diff($ids, $left));
        }
        return $orphans;
    }

    /**
     * Every offering with a date not over a day ago, and the orphans.
     *
     * @param int $now unix seconds
     * @return array kind => ids
     */
    public function current(int $now): array {
        $targets = $this->orphans();
        foreach ($this->sources as $kind => $source) {
            $targets[$kind] = array_values(array_unique(array_merge($targets[$kind] ?? [], $source->current($now))));
        }
        return $targets;
    }

    /**
     * Everything: every user, every offering not yet over, and deletions for offerings gone.
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
        return $this->send_all($users, $this->current(time()), true, $dryrun);
    }

    /**
     * The ids of some activities' offerings.
     *
     * @param array $activities module name => instance ids, e.g. ['facetoface' => [3], 'booking' => [1]]
     * @return array kind => ids
     */
    public function of_activities(array $activities): array {
        $targets = [];
        foreach ($activities as $module => $instanceids) {
            $kind = sources::kind_of_module((string)$module);
            if ($kind !== null && isset($this->sources[$kind])) {
                $targets[$kind] = $this->sources[$kind]->of_activities(array_map('intval', (array)$instanceids));
            }
        }
        return $targets;
    }

    /**
     * The repository, for tasks that look up users.
     *
     * @return repository
     */
    public function repository(): repository {
        return $this->repository;
    }
}
