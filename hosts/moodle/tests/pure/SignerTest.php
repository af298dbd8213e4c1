<?php
use local_outlooksync\local\launch_token;
use local_outlooksync\local\client;
use PHPUnit\Framework\TestCase;

/** Request signatures and launch tokens, against values made by the plugin's own Python code. */
final class SignerTest extends TestCase {
    private const SECRET = 'test-host-secret-0123456789';

    public function test_hook_signature_matches_plugin_signing(): void {
        // plugin.signing.sign("test-host-secret-0123456789", 1700000000, b'{"a":1}')
        $this->assertSame('sha256=6e3f6e1dfd5e904cd1f3c9bea7c2e5a2215100861bdf3f1fa0793ee2a23a891d',
            client::sign(self::SECRET, 1700000000, '{"a":1}'));
    }

    public function test_headers_carry_timestamp_and_signature(): void {
        $headers = client::signed(self::SECRET, 1700000000, '{"a":1}');
        $this->assertSame(['Content-Type: application/json', 'X-Hook-Timestamp: 1700000000',
            'X-Hook-Signature: ' . client::sign(self::SECRET, 1700000000, '{"a":1}')], $headers);
    }

    public function test_headers_name_the_sites_own_key_when_it_has_one(): void {
        $headers = client::signed(self::SECRET, 1700000000, '{"a":1}', 'hk_AbCdEfGhIjKlMnOp');
        $this->assertSame('X-Hook-Key: hk_AbCdEfGhIjKlMnOp', end($headers));
        $this->assertSame(array_slice($headers, 0, 3), client::signed(self::SECRET, 1700000000, '{"a":1}'));
        $this->assertSame(client::signed(self::SECRET, 1700000000, '{"a":1}'), client::signed(self::SECRET, 1700000000,
            '{"a":1}', ''));
    }

    public function test_request_ids_are_fresh_each_time(): void {
        $first = client::request_id();
        $this->assertMatchesRegularExpression('/^[0-9a-f]{32}$/', $first);
        $this->assertNotSame($first, client::request_id());
    }

    public function test_signature_changes_with_body_time_and_secret(): void {
        $base = client::sign(self::SECRET, 1700000000, '{"a":1}');
        $this->assertNotSame($base, client::sign(self::SECRET, 1700000000, '{"a":2}'));
        $this->assertNotSame($base, client::sign(self::SECRET, 1700000001, '{"a":1}'));
        $this->assertNotSame($base, client::sign(self::SECRET . 'x', 1700000000, '{"a":1}'));
    }

    public function test_launch_token_is_what_itsdangerous_makes(): void {
        // URLSafeTimedSerializer(SECRET, salt="lms-launch") signer with get_timestamp() == 1700000000
        $this->assertSame(
            'eyJhY2NvdW50IjoibW9vZGxlIiwidXNlcl9pZCI6IjIiLCJyb2xlIjoib3duZXIifQ.ZVPxAA.Kaq6IF7S7mJMHjAquOmUDg0xQKo',
            launch_token::make(self::SECRET, 'moodle', '2', 'owner', 1700000000));
    }

    public function test_launch_token_carries_locale_when_given(): void {
        $token = launch_token::make(self::SECRET, 'moodle', '2', 'learner', 1700000000, 'ru');
        $payload = json_decode(base64_decode(strtr(explode('.', $token)[0], '-_', '+/')), true);
        $this->assertSame(['account' => 'moodle', 'user_id' => '2', 'role' => 'learner', 'locale' => 'ru'], $payload);
    }

    public function test_launch_token_carries_a_nonce_when_given(): void {
        $token = launch_token::make(self::SECRET, 'moodle', '2', 'owner', 1700000000, 'en', 'n0nce');
        $payload = json_decode(base64_decode(strtr(explode('.', $token)[0], '-_', '+/')), true);
        $this->assertSame(['account' => 'moodle', 'user_id' => '2', 'role' => 'owner', 'nonce' => 'n0nce', 'locale' => 'en'],
            $payload);
        $this->assertNotSame($token, launch_token::make(self::SECRET, 'moodle', '2', 'owner', 1700000000, 'en', 'other'));
    }

    public function test_calls_about_a_user_name_the_account_and_the_user_as_text(): void {
        $this->assertSame('{"account":"moodle","user_id":"7","locale":"ru"}', client::about_user('moodle', 7, ['locale' => 'ru']));
        $this->assertSame('{"account":"moodle","user_id":"7","action":"rotate"}',
            client::about_user('moodle', '7', ['action' => 'rotate']));
    }

    public function test_launch_token_refuses_unknown_role(): void {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage("unknown role 'teacher'");
        launch_token::make(self::SECRET, 'moodle', '2', 'teacher', 1700000000);
    }

    public function test_launch_token_refuses_empty_secret(): void {
        $this->expectException(InvalidArgumentException::class);
        launch_token::make('', 'moodle', '2', 'owner', 1700000000);
    }
}
