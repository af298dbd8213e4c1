<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * Signs hook deliveries as the plugin verifies them (docs/HOST-CONTRACT.md); plain PHP, no Moodle call.
 *
 * The signed message is "<unix seconds>.<raw body>" and the signature HMAC-SHA256 with the host
 * secret, sent as `X-Hook-Signature: sha256=<hex>` beside `X-Hook-Timestamp`.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class signer {
    /** Header that carries the unix seconds the body was signed at. */
    public const TIMESTAMP_HEADER = 'X-Hook-Timestamp';
    /** Header that carries "sha256=<64 hex digits>". */
    public const SIGNATURE_HEADER = 'X-Hook-Signature';

    /**
     * The value of X-Hook-Signature for a body sent at a time.
     *
     * @param string $secret the host secret shared with the plugin
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
     * @param string $secret the host secret
     * @param int $timestamp unix seconds (now)
     * @param string $body the exact bytes that are sent
     * @return string[]
     */
    public static function headers(string $secret, int $timestamp, string $body): array {
        return [
            'Content-Type: application/json',
            self::TIMESTAMP_HEADER . ': ' . $timestamp,
            self::SIGNATURE_HEADER . ': ' . self::sign($secret, $timestamp, $body),
        ];
    }
}
