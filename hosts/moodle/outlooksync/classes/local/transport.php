<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * POSTs signed bodies to the bridge with Moodle's curl.
 *
 * Moodle's curl security helper refuses loopback and private addresses and ports other than
 * 80/443 unless the administrator allows them (Site administration → General → Security → HTTP
 * security). This plugin honours that list by default. The setting "The bridge is on a private
 * network" skips the helper for the plugin's own requests to the configured bridge URL only,
 * which an administrator can set anyway; nothing else in Moodle is opened by it.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class transport {
    /**
     * Send one request and return the HTTP status.
     *
     * @param string $url the bridge URL and the hook path
     * @param string[] $headers "Name: value" lines
     * @param string $body
     * @param bool $private skip the curl security helper (the "private network" setting)
     * @return array [status (0 when no answer), response body or error text]
     */
    public function post(string $url, array $headers, string $body, bool $private): array {
        global $CFG;
        require_once($CFG->libdir . '/filelib.php');
        $curl = new \curl(['ignoresecurity' => $private]);
        $curl->setHeader($headers);
        $response = $curl->post($url, $body, ['CURLOPT_TIMEOUT' => 60, 'CURLOPT_CONNECTTIMEOUT' => 10]);
        $info = $curl->get_info();
        return [(int)($info['http_code'] ?? 0), (string)$response];
    }
}
