<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * Every request Moodle makes to the bridge goes through here: signing and HTTP in one place.
 *
 * Signing (docs/HOST-CONTRACT.md §2) is plain PHP and needs no Moodle: the signed message is
 * "<unix seconds>.<raw body>", the signature HMAC-SHA256 with the host secret, sent as
 * `X-Hook-Signature: sha256=<hex>` beside `X-Hook-Timestamp`, and `X-Hook-Key: <key id>` when the
 * bridge gave this site a key of its own (`outlook-sync host-key create`; the secret is then that
 * key's). The hooks, the batches, the feed address and the user's state are all signed by
 * {@see self::signed()}; the contract tests' harness signs with it too, so the bridge checks exactly
 * what Moodle sends. Each call about a user carries a fresh `request_id`, which the bridge serves once.
 *
 * HTTP uses Moodle's curl. Its security helper refuses loopback and private addresses and ports
 * other than 80/443 unless the administrator allows them (Site administration → General → Security →
 * HTTP security). This plugin honours that list by default. The setting "The bridge is on a private
 * network" skips the helper for the plugin's own requests to the configured bridge URL only, which
 * an administrator can set anyway; nothing else in Moodle is opened by it.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class client {
    /** Header that carries the unix seconds the body was signed at. */
    public const TIMESTAMP_HEADER = 'X-Hook-Timestamp';
    /** Header that carries "sha256=<64 hex digits>". */
    public const SIGNATURE_HEADER = 'X-Hook-Signature';
    /** Header that names the account's own key (absent: the bridge's shared secret). */
    public const KEY_HEADER = 'X-Hook-Key';
    /** The bridge's call for one user's state (docs/HOST-CONTRACT.md §6). */
    public const USER_STATE_PATH = '/users/state';
    /** The bridge's call for a user's calendar-feed address (docs/HOST-CONTRACT.md §6). */
    public const FEED_ADDRESS_PATH = '/feeds/address';

    /** @var \stdClass the plugin's settings: bridgeurl, keyid, secret, account, privatenetwork */
    protected $config;

    /**
     * @param \stdClass|null $config the plugin's settings (default: get_config('local_outlooksync'))
     */
    public function __construct(?\stdClass $config = null) {
        $this->config = $config ?? get_config('local_outlooksync');
    }

    /**
     * The value of X-Hook-Signature for a body sent at a time.
     *
     * @param string $secret the host secret shared with the bridge
     * @param int $timestamp unix seconds
     * @param string $body the exact bytes that are sent
     * @return string "sha256=<hex>"
     */
    public static function sign(string $secret, int $timestamp, string $body): string {
        return 'sha256=' . hash_hmac('sha256', $timestamp . '.' . $body, $secret);
    }

    /**
     * The HTTP headers of a signed JSON request, as "Name: value" lines (the form Moodle's curl takes).
     *
     * @param string $secret the host secret (the key's, when $keyid is given)
     * @param int $timestamp unix seconds (now)
     * @param string $body the exact bytes that are sent
     * @param string|null $keyid the key id the bridge gave this site; null or '' for the shared secret
     * @return string[]
     */
    public static function signed(string $secret, int $timestamp, string $body, ?string $keyid = null): array {
        $headers = [
            'Content-Type: application/json',
            self::TIMESTAMP_HEADER . ': ' . $timestamp,
            self::SIGNATURE_HEADER . ': ' . self::sign($secret, $timestamp, $body),
        ];
        if ($keyid !== null && $keyid !== '') {
            $headers[] = self::KEY_HEADER . ': ' . $keyid;
        }
        return $headers;
    }

    /**
     * A fresh request id (32 hex digits); the bridge acts on each id once and answers a repeat 409.
     *
     * @return string
     */
    public static function request_id(): string {
        return bin2hex(random_bytes(16));
    }

    /**
     * The body of a call about one user: the account, the user, and what else the call takes.
     *
     * @param string $account the LMS account id
     * @param int|string $userid the Moodle user id
     * @param array $more e.g. ['locale' => 'ru'] or ['action' => 'rotate']
     * @return string JSON
     */
    public static function about_user(string $account, $userid, array $more = []): string {
        return envelope::json(['account' => $account, 'user_id' => (string)$userid] + $more);
    }

    /**
     * POST a body to a path of the bridge, signed now.
     *
     * @param string $path e.g. "/hooks"
     * @param string $body the exact bytes to send
     * @return array [status (0 when no answer), response body or error text]
     */
    public function post(string $path, string $body): array {
        $url = rtrim((string)$this->config->bridgeurl, '/') . $path;
        $keyid = isset($this->config->keyid) ? trim((string)$this->config->keyid) : '';
        return $this->http($url, self::signed((string)$this->config->secret, time(), $body, $keyid), $body);
    }

    /**
     * Ask the bridge about one user, with a fresh request id, and read its JSON answer.
     *
     * @param string $path self::USER_STATE_PATH or self::FEED_ADDRESS_PATH
     * @param int|string $userid
     * @param array $more the call's other fields
     * @return array [status (0 when no answer), the decoded answer or null]
     */
    public function ask(string $path, $userid, array $more = []): array {
        $more += ['request_id' => self::request_id()];
        [$status, $response] = $this->post($path, self::about_user((string)$this->config->account, $userid, $more));
        $answer = json_decode($response, true);
        return [$status, is_array($answer) ? $answer : null];
    }

    /**
     * The URL requests go to, without the path (for messages).
     *
     * @param string $path
     * @return string
     */
    public function url(string $path): string {
        return rtrim((string)$this->config->bridgeurl, '/') . $path;
    }

    /**
     * Send one request with Moodle's curl (a test replaces this).
     *
     * @param string $url
     * @param string[] $headers "Name: value" lines
     * @param string $body
     * @return array [status (0 when no answer), response body or error text]
     */
    protected function http(string $url, array $headers, string $body): array {
        global $CFG;
        require_once($CFG->libdir . '/filelib.php');
        $curl = new \curl(['ignoresecurity' => !empty($this->config->privatenetwork)]);
        $curl->setHeader($headers);
        $response = $curl->post($url, $body, ['CURLOPT_TIMEOUT' => 60, 'CURLOPT_CONNECTTIMEOUT' => 10]);
        $info = $curl->get_info();
        return [(int)($info['http_code'] ?? 0), (string)$response];  // on no answer, curl's error text
    }
}
