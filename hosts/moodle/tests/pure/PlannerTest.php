<?php
use local_outlooksync\local\envelope;
use local_outlooksync\local\planner;
use local_outlooksync\local\sync;
use PHPUnit\Framework\TestCase;

/** Versions, delivery ids, deletions and request bodies. */
final class PlannerTest extends TestCase {
    private const NOW = 1800000000;
    private const USER = ['user.upserted', ['id' => '5', 'email' => 'a@example.com', 'name' => 'A', 'active' => true,
        'role' => 'learner']];

    private static function sent(array $action): array {
        return [$action['key'] => ['version' => $action['version'], 'hash' => $action['hash'], 'sent' => true]];
    }

    public function test_first_send_gets_the_current_second_as_version(): void {
        [$action] = planner::plan(['user|5' => self::USER], [], self::NOW);
        $this->assertSame(self::NOW, $action['data']['version']);
        $this->assertSame('user.upserted:5:1800000000', $action['id']);
    }

    public function test_unchanged_object_once_sent_is_skipped(): void {
        [$action] = planner::plan(['user|5' => self::USER], [], self::NOW);
        $this->assertSame([], planner::plan(['user|5' => self::USER], self::sent($action), self::NOW + 5));
    }

    public function test_unsent_object_is_retried_with_the_same_id_and_version(): void {
        [$action] = planner::plan(['user|5' => self::USER], [], self::NOW);
        $known = [$action['key'] => ['version' => $action['version'], 'hash' => $action['hash'], 'sent' => false]];
        [$again] = planner::plan(['user|5' => self::USER], $known, self::NOW + 60);
        $this->assertSame([$action['id'], $action['version']], [$again['id'], $again['version']]);
    }

    public function test_change_in_the_same_second_still_grows_the_version(): void {
        [$action] = planner::plan(['user|5' => self::USER], [], self::NOW);
        $changed = self::USER;
        $changed[1]['active'] = false;
        [$next] = planner::plan(['user|5' => $changed], self::sent($action), self::NOW);
        $this->assertSame(self::NOW + 1, $next['version']);
    }

    public function test_vanished_objects_are_deleted_once(): void {
        $known = ['event|f2f:1:2' => ['version' => 10, 'hash' => 'x', 'sent' => true],
            'enrollment|f2f:1:2|5' => ['version' => 11, 'hash' => 'y', 'sent' => true]];
        $actions = planner::plan([], $known, self::NOW);
        $this->assertSame([['enrollment.deleted', ['event_id' => 'f2f:1:2', 'user_id' => '5', 'version' => self::NOW]],
            ['event.deleted', ['id' => 'f2f:1:2', 'version' => self::NOW]]],
            array_map(fn($a) => [$a['topic'], $a['data']], $actions));
        $this->assertSame('enrollment.deleted:f2f:1:2:5:' . self::NOW, $actions[0]['id']);
        $known = array_merge(...array_map([self::class, 'sent'], $actions));
        $this->assertSame([], planner::plan([], $known, self::NOW + 1));
    }

    public function test_deletion_of_something_never_sent_is_not_sent(): void {
        $this->assertSame([], planner::plan(['user|5' => ['user.deleted', ['id' => '5']]], [], self::NOW));
    }

    public function test_one_delivery_goes_to_hooks_several_to_batches_of_1000(): void {
        $one = [['id' => 'a', 'topic' => 'user.deleted', 'account' => 'm', 'data' => ['id' => '1', 'version' => 1]]];
        $this->assertSame([['/hooks', '{"id":"a","topic":"user.deleted","account":"m","data":{"id":"1","version":1}}']],
            envelope::requests($one));
        $this->assertSame('/hooks/batch', envelope::requests($one, true)[0][0]);
        $many = array_fill(0, 2001, $one[0]);
        $requests = envelope::requests($many);
        $this->assertSame([1000, 1000, 1], array_map(fn($r) => count(json_decode($r[1], true)['deliveries']), $requests));
    }

    public function test_batches_stay_under_the_size_limit(): void {
        $big = ['id' => 'a', 'topic' => 'event.upserted', 'account' => 'm', 'data' => ['description' => str_repeat('x', 100000)]];
        $requests = envelope::requests(array_fill(0, 20, $big));
        $this->assertGreaterThan(2, count($requests));
        foreach ($requests as [, $body]) {
            $this->assertLessThanOrEqual(envelope::MAX_BYTES + 64, strlen($body));
        }
    }

    public function test_scope_of_keys(): void {
        $this->assertSame(['user', 'f2f:12', 'f2f:12'],
            [sync::scope_of('user|5'), sync::scope_of('event|f2f:12:3'), sync::scope_of('enrollment|f2f:12:3|5')]);
        $this->assertSame(['f2f:12', 'f2f:13'], sync::scopes(['sessionids' => [12, 13, 12]]));
        $this->assertSame(['bk:7', 'bk:7'], [sync::scope_of('enrollment|bk:7:1|5'), sync::scope_of('event|bk:7:2')]);
        $this->assertSame(['f2f:1', 'bk:7'], sync::scopes(['sessionids' => [1], 'optionids' => [7]]));
    }

    public function test_round_only_deletes_within_the_snapshot_scopes(): void {
        $known = ['user|9' => ['version' => 1, 'hash' => 'x', 'sent' => true],
            'event|f2f:7:1' => ['version' => 1, 'hash' => 'x', 'sent' => true],
            'event|f2f:8:1' => ['version' => 1, 'hash' => 'x', 'sent' => true]];
        $round = sync::round(['site' => ['wwwroot' => 'https://lms.example.com', 'timezone' => 'UTC'], 'users' => [],
            'sessionids' => [8], 'sessions' => []], $known, 'm', self::NOW);
        $this->assertSame(['event|f2f:8:1'], array_column($round['actions'], 'key'));
        $this->assertSame('/hooks', $round['requests'][0]['path']);
    }
}
