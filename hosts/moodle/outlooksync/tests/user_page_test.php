<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync;

use local_outlooksync\local\client;
use local_outlooksync\local\user_page;

defined('MOODLE_INTERNAL') || die();
require_once(__DIR__ . '/fake_bridge.php');

/**
 * Each user's own page: what it asks the bridge (signed, in the user's language), what it keeps of the
 * feed address, and where it is linked from. The bridge is fake_bridge here; the bridge's real answers
 * to the same calls are tested in its own suite (tests/moodle, tests/page/test_user_state.py).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_outlooksync\local\user_page
 */
final class user_page_test extends \advanced_testcase {
    /** @var string */
    private const SECRET = 'test-host-secret-0123456789';
    /** @var string */
    private const ISSUED = '2030-01-02T03:04:05+00:00';
    /** @var \stdClass */
    private $learner;

    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        set_config('enabled', 1, 'local_outlooksync');
        set_config('bridgeurl', 'http://bridge.invalid/', 'local_outlooksync');
        set_config('secret', self::SECRET, 'local_outlooksync');
        set_config('account', 'moodle-test', 'local_outlooksync');
        $this->learner = $this->getDataGenerator()->create_user(['email' => 'gina@gmail.com']);
    }

    /**
     * The bridge's answer to /users/state for a learner with a personal address.
     *
     * @param string|null $issued when their feed address was made
     * @param bool $offered
     * @return array
     */
    private function state(?string $issued = null, bool $offered = true): array {
        return ['user_id' => (string)$this->learner->id, 'connection' => 'connected', 'state' => 'skipped',
            'reason' => 'personal_email', 'reaches_outlook' => false, 'entries' => 0, 'changed_at' => null, 'locale' => 'ru',
            'message' => 'Ваши сеансы не попадают в ваш календарь Outlook.', 'reason_text' => 'Ваш адрес почты в СДО — личный.',
            'feed' => ['offered' => $offered, 'reason' => $offered ? 'personal_email' : 'feeds_off', 'issued_at' => $issued]];
    }

    public function test_the_state_is_asked_for_the_user_in_their_language_and_signed(): void {
        $bridge = new fake_bridge(202, [client::USER_STATE_PATH => [200, $this->state()]]);
        $found = (new user_page($bridge))->load((int)$this->learner->id, 'ru');
        $this->assertNull($found['problem']);
        $this->assertSame('Ваши сеансы не попадают в ваш календарь Outlook.', $found['state']['message']);
        $this->assertNull($found['feed']);
        [$request] = $bridge->sent;
        $this->assertSame('http://bridge.invalid/users/state', $request['url']);
        $this->assertMatchesRegularExpression('/^[0-9a-f]{32}$/', $request['body']['request_id']);  // served once
        $this->assertSame(['account' => 'moodle-test', 'user_id' => (string)$this->learner->id, 'locale' => 'ru',
            'request_id' => $request['body']['request_id']], $request['body']);
        $stamp = (int)substr($request['headers'][1], strlen(client::TIMESTAMP_HEADER) + 2);
        $this->assertSame(client::SIGNATURE_HEADER . ': ' . client::sign(self::SECRET, $stamp, json_encode($request['body'],
            JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE)), $request['headers'][2]);
    }

    public function test_a_new_address_is_kept_shown_and_dropped_once_the_bridge_no_longer_serves_it(): void {
        $url = 'https://bridge.example.com/feeds/secret-token.ics';
        $bridge = new fake_bridge(202, [client::FEED_ADDRESS_PATH => [200, ['user_id' => (string)$this->learner->id,
            'offered' => true, 'reason' => 'personal_email', 'url' => $url, 'webcal_url' => null, 'issued_at' => self::ISSUED]],
            client::USER_STATE_PATH => [200, $this->state(self::ISSUED)]]);
        $page = new user_page($bridge);
        $this->assertTrue($page->feed((int)$this->learner->id, 'rotate'));
        $this->assertSame('rotate', $bridge->sent[0]['body']['action']);
        $this->assertSame($url, get_user_preferences(user_page::URL_PREFERENCE, null, $this->learner->id));
        $this->assertSame(['url' => $url, 'webcal' => 'webcal://bridge.example.com/feeds/secret-token.ics'],
            $page->load((int)$this->learner->id, 'en')['feed']);

        $bridge->answers[client::USER_STATE_PATH] = [200, $this->state('2030-02-02T00:00:00+00:00')];  // renewed elsewhere
        $this->assertNull($page->load((int)$this->learner->id, 'en')['feed']);
        $this->assertNull(get_user_preferences(user_page::URL_PREFERENCE, null, $this->learner->id));
    }

    public function test_feeds_switched_off_drop_the_kept_address(): void {
        set_user_preference(user_page::URL_PREFERENCE, 'https://bridge.example.com/feeds/x.ics', $this->learner->id);
        set_user_preference(user_page::ISSUED_PREFERENCE, self::ISSUED, $this->learner->id);
        $bridge = new fake_bridge(202, [client::USER_STATE_PATH => [200, $this->state(self::ISSUED, false)]]);
        $this->assertNull((new user_page($bridge))->load((int)$this->learner->id, 'en')['feed']);
        $this->assertNull(get_user_preferences(user_page::URL_PREFERENCE, null, $this->learner->id));
    }

    public function test_stop_forgets_the_address(): void {
        set_user_preference(user_page::URL_PREFERENCE, 'https://bridge.example.com/feeds/x.ics', $this->learner->id);
        $bridge = new fake_bridge(202, [client::FEED_ADDRESS_PATH => [200, ['offered' => true, 'reason' => 'personal_email',
            'url' => null, 'issued_at' => null]]]);
        $this->assertTrue((new user_page($bridge))->feed((int)$this->learner->id, 'revoke'));
        $this->assertSame('revoke', $bridge->sent[0]['body']['action']);
        $this->assertNull(get_user_preferences(user_page::URL_PREFERENCE, null, $this->learner->id));
    }

    public function test_an_unknown_action_is_refused_before_anything_is_sent(): void {
        $bridge = new fake_bridge();
        $this->expectException(\coding_exception::class);
        try {
            (new user_page($bridge))->feed((int)$this->learner->id, 'get');
        } finally {
            $this->assertSame([], $bridge->sent);
        }
    }

    public function test_a_user_the_bridge_does_not_know_and_a_bridge_that_does_not_answer(): void {
        $unknown = new fake_bridge(202, [client::USER_STATE_PATH => [404, ['error' => 'no such user in this account']]]);
        $this->assertSame('unknown', (new user_page($unknown))->load((int)$this->learner->id, 'en')['problem']);
        foreach ([0, 401, 503] as $status) {
            $down = new fake_bridge(202, [client::USER_STATE_PATH => [$status, []]]);
            $this->assertSame('unreachable', (new user_page($down))->load((int)$this->learner->id, 'en')['problem']);
        }
    }

    public function test_the_page_is_for_real_users_while_the_plugin_is_on(): void {
        $this->assertTrue(user_page::available_to($this->learner));
        $this->assertFalse(user_page::available_to(guest_user()));
        set_config('enabled', 0, 'local_outlooksync');
        $this->assertFalse(user_page::available_to($this->learner));
    }

    public function test_the_profile_links_the_page_for_its_own_user_only(): void {
        global $CFG;
        require_once($CFG->dirroot . '/local/outlooksync/lib.php');
        $own = new \core_user\output\myprofile\tree();
        local_outlooksync_myprofile_navigation($own, $this->learner, true, null);
        $this->assertSame('/local/outlooksync/my.php', $own->nodes['local_outlooksync']->url->out_as_local_url(false));
        $other = new \core_user\output\myprofile\tree();
        local_outlooksync_myprofile_navigation($other, $this->learner, false, null);
        $this->assertArrayNotHasKey('local_outlooksync', $other->nodes);
    }

    public function test_the_user_menu_links_the_page_from_moodle_4_5(): void {
        if (!class_exists(\core_user\hook\extend_user_menu::class)) {
            $this->markTestSkipped('Moodle ' . moodle_major_version() . ' has no user menu hook (it came in 4.5); '
                . 'the profile links the page there');
        }
        $this->setUser($this->learner->id);
        $hook = new \core_user\hook\extend_user_menu();
        \core\di::get(\core\hook\manager::class)->dispatch($hook);
        $links = array_map(fn($item) => $item->url->out_as_local_url(false), $hook->get_navitems());
        $this->assertContains('/local/outlooksync/my.php', $links);
        $this->setGuestUser();
        $hook = new \core_user\hook\extend_user_menu();
        \core\di::get(\core\hook\manager::class)->dispatch($hook);
        $this->assertNotContains('/local/outlooksync/my.php',
            array_map(fn($item) => $item->url->out_as_local_url(false), $hook->get_navitems()));
    }
}
