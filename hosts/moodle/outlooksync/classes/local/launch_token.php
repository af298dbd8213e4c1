<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * The settings-page launch token; plain PHP, no Moodle call.
 *
 * Byte for byte what Python's `itsdangerous.URLSafeTimedSerializer(secret, salt="lms-launch")
 * .dumps(payload)` makes (plugin/host.py), and what plugin/launch.py loads with max_age 300 s:
 *
 * - payload: compact JSON, base64url without padding (itsdangerous compresses only when zlib makes
 *   it shorter, and marks that with a leading "."; an uncompressed token is equally valid);
 * - value = payload "." base64url(timestamp as big-endian bytes, no leading zero bytes);
 * - key = SHA-1(salt . "signer" . secret) (itsdangerous' default "django-concat" derivation);
 * - token = value "." base64url(HMAC-SHA1(key, value)).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class launch_token {
    /** The salt the plugin expects (plugin/host.py LAUNCH_SALT). */
    public const SALT = 'lms-launch';
    /** Roles the plugin knows. */
    public const ROLES = ['owner', 'admin', 'instructor', 'learner'];

    /**
     * A token that opens the Integrations page as a user for 300 s.
     *
     * @param string $secret the host secret
     * @param string $account the LMS account id
     * @param string $userid the user's LMS id
     * @param string $role owner|admin|instructor|learner
     * @param int $timestamp unix seconds (now)
     * @param string|null $locale e.g. "ru"; null leaves the page's default
     * @param string|null $nonce random text that makes two tokens of the same second differ (the bridge
     *        opens each token once); null for none
     * @return string the token, safe in a URL
     * @throws \InvalidArgumentException on an empty secret or an unknown role
     */
    public static function make(string $secret, string $account, string $userid, string $role, int $timestamp,
            ?string $locale = null, ?string $nonce = null): string {
        if ($secret === '') {
            throw new \InvalidArgumentException('the host secret is empty');
        }
        if (!in_array($role, self::ROLES, true)) {
            throw new \InvalidArgumentException("unknown role '$role'");
        }
        $payload = ['account' => $account, 'user_id' => $userid, 'role' => $role];
        if ($nonce !== null && $nonce !== '') {
            $payload['nonce'] = $nonce;
        }
        if ($locale !== null && $locale !== '') {
            $payload['locale'] = $locale;
        }
        $json = json_encode($payload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        $value = self::b64($json) . '.' . self::b64(self::int_bytes($timestamp));
        $key = sha1(self::SALT . 'signer' . $secret, true);
        return $value . '.' . self::b64(hash_hmac('sha1', $value, $key, true));
    }

    /**
     * URL-safe base64 without padding, as itsdangerous writes it.
     *
     * @param string $bytes
     * @return string
     */
    private static function b64(string $bytes): string {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }

    /**
     * An integer as big-endian bytes without leading zero bytes (itsdangerous' int_to_bytes).
     *
     * @param int $number >= 0
     * @return string
     */
    private static function int_bytes(int $number): string {
        return ltrim(pack('J', $number), "\0");
    }
}
