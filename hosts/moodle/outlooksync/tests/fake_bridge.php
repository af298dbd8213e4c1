<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync;

use local_outlooksync\local\client;

/**
 * The bridge, stood in for inside PHPUnit (no HTTP server runs there): the plugin's own client with
 * only its last step, curl, replaced. It records what would be POSTed (signed by the real code) and
 * answers each path with a status and a JSON body. The real bridge answers the same requests in the
 * bridge's own suite (tests/moodle, replaying recorded data) and in the recorded runs of docs/MOODLE.md.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class fake_bridge extends client {
    /** @var array list of {url, path, headers, body (decoded)} */
    public $sent = [];
    /** @var array path => [status, answer (array)]; other paths answer $status with {} */
    public $answers = [];
    /** @var int */
    public $status;

    /**
     * @param int $status the answer to hook paths
     * @param array $answers path => [status, answer]
     */
    public function __construct(int $status = 202, array $answers = []) {
        parent::__construct();
        $this->status = $status;
        $this->answers = $answers;
    }

    /**
     * Record the request and answer it.
     *
     * @param string $url
     * @param string[] $headers
     * @param string $body
     * @return array [status, body]
     */
    protected function http(string $url, array $headers, string $body): array {
        $path = substr($url, strlen(rtrim((string)$this->config->bridgeurl, '/')));
        $this->sent[] = ['url' => $url, 'path' => $path, 'headers' => $headers, 'body' => json_decode($body, true)];
        [$status, $answer] = $this->answers[$path] ?? [$this->status, []];
        return [$status, json_encode((object)$answer)];
    }

    /**
     * The deliveries of the recorded hook requests, keyed by "topic id".
     *
     * @return array
     */
    public function deliveries(): array {
        $all = [];
        foreach ($this->sent as $request) {
            foreach ($request['body']['deliveries'] ?? [$request['body']] as $delivery) {
                $data = $delivery['data'];
                $all[$delivery['topic'] . ' ' . ($data['id'] ?? $data['event_id'] . '/' . $data['user_id'])] = $delivery;
            }
        }
        return $all;
    }
}
