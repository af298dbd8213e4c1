<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * What each user's own page (my.php) asks the bridge and keeps (docs/HOST-CONTRACT.md §6).
 *
 * The bridge says where the user stands (POST /users/state: in their language) and makes, renews
 * or removes their calendar-feed address (POST /feeds/address). It keeps only a hash of the
 * address's secret and shows the address once, when it makes it; Moodle keeps it for the user in
 * two user preferences (the address and when the bridge made it). An address the bridge no longer
 * has (renewed elsewhere, removed, feeds switched off) is dropped here as soon as the page sees it.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class user_page {
    /** User preference: the feed's https address. */
    public const URL_PREFERENCE = 'local_outlooksync_feedurl';
    /** User preference: when the bridge made it (as the bridge writes it, RFC 3339). */
    public const ISSUED_PREFERENCE = 'local_outlooksync_feedissued';
    /** What the page's buttons ask of the bridge: a new address (the old one stops working), or none. */
    public const ACTIONS = ['rotate', 'revoke'];

    /** @var client */
    private $client;

    /**
     * @param client|null $client what POSTs (a test passes its own)
     */
    public function __construct(?client $client = null) {
        $this->client = $client ?? new client();
    }

    /**
     * Where the user stands, and their feed address when the bridge offers a feed and Moodle has it.
     *
     * @param int $userid
     * @param string $locale the user's language in Moodle, e.g. "ru"
     * @return array {problem: null, "unknown" (the bridge has not heard of the user yet) or "unreachable"
     *         (no answer, or not the one expected), state: the bridge's answer or null, feed: {url, webcal} or null}
     */
    public function load(int $userid, string $locale): array {
        [$status, $answer] = $this->client->ask(client::USER_STATE_PATH, $userid, ['locale' => $locale]);
        if ($status !== 200 || $answer === null) {
            return ['problem' => $status === 404 ? 'unknown' : 'unreachable', 'state' => null, 'feed' => null];
        }
        $feed = null;
        $url = get_user_preferences(self::URL_PREFERENCE, null, $userid);
        $issued = get_user_preferences(self::ISSUED_PREFERENCE, null, $userid);
        if ($url !== null && (empty($answer['feed']['offered']) || $issued !== ($answer['feed']['issued_at'] ?? null))) {
            self::forget($userid);  // the bridge no longer serves it
        } else if ($url !== null) {
            $feed = ['url' => $url, 'webcal' => 'webcal://' . explode('://', $url, 2)[1]];
        }
        return ['problem' => null, 'state' => $answer, 'feed' => $feed];
    }

    /**
     * A new feed address for the user (kept), or none (forgotten).
     *
     * @param int $userid
     * @param string $action one of self::ACTIONS
     * @return bool whether the bridge did it
     * @throws \coding_exception for an action not in self::ACTIONS
     */
    public function feed(int $userid, string $action): bool {
        if (!in_array($action, self::ACTIONS, true)) {
            throw new \coding_exception("unknown feed action '$action'");
        }
        [$status, $answer] = $this->client->ask(client::FEED_ADDRESS_PATH, $userid, ['action' => $action]);
        if ($status !== 200 || $answer === null) {
            return false;
        }
        if ($action === 'rotate' && !empty($answer['url'])) {
            set_user_preference(self::URL_PREFERENCE, $answer['url'], $userid);
            set_user_preference(self::ISSUED_PREFERENCE, $answer['issued_at'], $userid);
        } else {
            self::forget($userid);
        }
        return $action === 'revoke' || !empty($answer['url']);
    }

    /**
     * Forget the user's feed address.
     *
     * @param int $userid
     */
    public static function forget(int $userid): void {
        unset_user_preference(self::URL_PREFERENCE, $userid);
        unset_user_preference(self::ISSUED_PREFERENCE, $userid);
    }

    /**
     * Whether the page is there for a user: the plugin is on and configured, and the user is a real
     * person logged in (not the guest).
     *
     * @param \stdClass $user
     * @return bool
     */
    public static function available_to(\stdClass $user): bool {
        $config = get_config('local_outlooksync');
        return !empty($config->enabled) && !empty($config->bridgeurl) && !empty($config->secret) && !empty($config->account)
            && !empty($user->id) && !isguestuser($user);
    }
}
