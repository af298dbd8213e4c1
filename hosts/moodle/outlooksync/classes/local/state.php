<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * The table local_outlooksync_state: per object, the last planned version, its hash and whether
 * the bridge accepted it (the planner's "known").
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class state {
    /** @var string */
    private const TABLE = 'local_outlooksync_state';

    /**
     * What is known for these keys and for every key of these scopes.
     *
     * @param string[] $keys
     * @param string[] $scopes
     * @return array key => {version, hash, sent}
     */
    public function known(array $keys, array $scopes): array {
        global $DB;
        $known = [];
        foreach (array_chunk(array_values(array_unique($keys)), 500) as $chunk) {
            [$in, $params] = $DB->get_in_or_equal($chunk);
            $known += $this->rows("objectkey $in", $params);
        }
        foreach (array_chunk(array_values(array_unique($scopes)), 500) as $chunk) {
            [$in, $params] = $DB->get_in_or_equal($chunk);
            $known += $this->rows("scope $in", $params);
        }
        return $known;
    }

    /**
     * What objects were ever sent for ("<kind>:<id>" scopes), by kind.
     *
     * @return array kind => int[] (e.g. "f2f" => face-to-face session ids, "bk" => booking option ids)
     */
    public function sent_ids(): array {
        global $DB;
        $ids = [];
        foreach ($DB->get_fieldset_select(self::TABLE, 'DISTINCT scope', "scope <> 'user'") as $scope) {
            [$kind, $id] = explode(':', $scope, 2);
            $ids[$kind][] = (int)$id;
        }
        return $ids;
    }

    /**
     * Record planned actions before sending them (sent = 0): a retry then resends the same ids.
     *
     * @param array $actions planner actions
     * @param bool $sent true once the bridge accepted them
     */
    public function record(array $actions, bool $sent): void {
        global $DB;
        $transaction = $DB->start_delegated_transaction();
        foreach ($actions as $action) {
            $row = ['objectkey' => $action['key'], 'scope' => sync::scope_of($action['key']), 'version' => $action['version'],
                'hash' => $action['hash'], 'sent' => (int)$sent, 'timemodified' => time()];
            $id = $DB->get_field(self::TABLE, 'id', ['objectkey' => $action['key']]);
            if ($id) {
                $DB->update_record(self::TABLE, ['id' => $id] + $row);
            } else {
                $DB->insert_record(self::TABLE, $row);
            }
        }
        $transaction->allow_commit();
    }

    /**
     * Rows as known entries.
     *
     * @param string $select
     * @param array $params
     * @return array
     */
    private function rows(string $select, array $params): array {
        global $DB;
        $known = [];
        foreach ($DB->get_records_select(self::TABLE, $select, $params) as $row) {
            $known[$row->objectkey] = ['version' => (int)$row->version, 'hash' => $row->hash, 'sent' => (bool)$row->sent];
        }
        return $known;
    }
}
