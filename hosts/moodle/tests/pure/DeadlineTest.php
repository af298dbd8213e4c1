<?php
use local_outlooksync\local\deadline;
use local_outlooksync\local\planner;
use local_outlooksync\local\sync;
use PHPUnit\Framework\TestCase;

/** Assignments and quizzes to deadline.* and learner_deadline.* objects, and what a change sends. */
final class DeadlineTest extends TestCase {
    private const SITE = ['wwwroot' => 'https://lms.example.com/', 'timezone' => 'Europe/Berlin'];
    /** 2030-03-30 09:00 Berlin (winter time, +01:00). */
    private const DUE = 1901088000;

    private static function assignment(array $changes = []): array {
        return $changes + ['id' => 4, 'due' => self::DUE,
            'activity' => ['id' => 4, 'cmid' => 41, 'name' => 'Essay', 'intro' => '<p>500 words</p>', 'visible' => 1],
            'learners' => [['userid' => 5, 'due' => self::DUE, 'done' => false],
                // an extension to 2030-04-02 09:00, after the switch to summer time (+02:00)
                ['userid' => 6, 'due' => self::DUE + 3 * 86400 - 3600, 'done' => false],
                ['userid' => 7, 'due' => self::DUE, 'done' => true]]];
    }

    private static function objects(array $snapshot): array {
        return sync::objects($snapshot + ['site' => self::SITE, 'users' => []]);
    }

    public function test_an_assignment_is_one_deadline_and_a_row_per_learner(): void {
        $objects = deadline::objects(self::SITE, 'assign', 'as:4', self::assignment());
        $this->assertSame(['deadline.upserted', ['id' => 'as:4', 'title' => 'Essay', 'description' => '<p>500 words</p>',
            'url' => 'https://lms.example.com/mod/assign/view.php?id=41', 'due' => '2030-03-30T09:00:00+01:00',
            'timezone' => 'Europe/Berlin']], $objects['deadline|as:4']);
        $this->assertSame(['learner_deadline.upserted', ['deadline_id' => 'as:4', 'user_id' => '5', 'due' => null,
            'done' => false]], $objects['learner_deadline|as:4|5']);
        $this->assertSame('2030-04-02T09:00:00+02:00', $objects['learner_deadline|as:4|6'][1]['due']);
        $this->assertTrue($objects['learner_deadline|as:4|7'][1]['done']);
        $this->assertCount(4, $objects);
    }

    public function test_a_quiz_links_to_the_quiz(): void {
        $objects = self::objects(['quizids' => [9], 'quizzes' => [self::assignment(['id' => 9])]]);
        $this->assertSame('https://lms.example.com/mod/quiz/view.php?id=41', $objects['deadline|qz:9'][1]['url']);
        $this->assertSame(['deadline|qz:9', 'learner_deadline|qz:9|5', 'learner_deadline|qz:9|6', 'learner_deadline|qz:9|7'],
            array_keys($objects));
    }

    public function test_no_due_time_or_hidden_is_no_deadline(): void {
        $this->assertSame([], deadline::objects(self::SITE, 'assign', 'as:4', self::assignment(['due' => 0])));
        $hidden = self::assignment();
        $hidden['activity']['visible'] = 0;
        $this->assertSame([], deadline::objects(self::SITE, 'assign', 'as:4', $hidden));
    }

    public function test_a_learner_whose_due_time_an_override_removed_has_no_row(): void {
        $item = self::assignment(['learners' => [['userid' => 5, 'due' => 0, 'done' => false]]]);
        $this->assertSame(['deadline|as:4'], array_keys(deadline::objects(self::SITE, 'assign', 'as:4', $item)));
    }

    public function test_learners_are_the_people_a_deadline_names(): void {
        $this->assertSame([5, 6, 7], sync::people(['assignments' => [self::assignment()]]));
    }

    public function test_an_extension_changes_that_learners_row_only_and_removing_it_sends_null(): void {
        $known = self::sent(self::objects(['assignids' => [4], 'assignments' => [self::assignment()]]));
        $item = self::assignment();
        $item['learners'][0]['due'] = self::DUE + 86400;
        $after = planner::plan(self::objects(['assignids' => [4], 'assignments' => [$item]]), $known, 2000);
        $this->assertSame(['learner_deadline|as:4|5'], array_column($after, 'key'));
        $this->assertSame('learner_deadline.upserted:as:4:5:2000', $after[0]['id']);
        $this->assertSame('2030-03-31T10:00:00+02:00', $after[0]['data']['due']);  // 24 h later, summer time
        $item['learners'][1]['due'] = self::DUE;  // the extension of user 6 removed
        $removed = planner::plan(self::objects(['assignids' => [4], 'assignments' => [$item]]), $known, 2000);
        $this->assertNull(array_column($removed, 'data', 'key')['learner_deadline|as:4|6']['due']);
    }

    public function test_a_deleted_assignment_or_a_learner_who_left_is_deleted(): void {
        $objects = self::objects(['assignids' => [4], 'assignments' => [self::assignment()]]);
        $known = array_map(fn() => ['version' => 5, 'hash' => 'x', 'sent' => true], $objects);
        $gone = sync::round(['site' => self::SITE, 'users' => [], 'assignids' => [4], 'assignments' => []], $known,
            'moodle', 3000);
        $this->assertSame(['deadline.deleted', 'learner_deadline.deleted', 'learner_deadline.deleted',
            'learner_deadline.deleted'], array_column($gone['actions'], 'topic'));
        $this->assertSame(['deadline_id' => 'as:4', 'user_id' => '5', 'version' => 3000], $gone['actions'][1]['data']);
        $this->assertSame('learner_deadline.deleted:as:4:5:3000', $gone['actions'][1]['id']);
        $item = self::assignment();
        array_pop($item['learners']);
        $left = sync::round(['site' => self::SITE, 'users' => [], 'assignids' => [4], 'assignments' => [$item]],
            self::sent($objects), 'moodle', 3000);
        $this->assertSame(['learner_deadline|as:4|7'], array_column($left['actions'], 'key'));
        $this->assertSame('learner_deadline.deleted', $left['actions'][0]['topic']);
    }

    public function test_scopes_of_deadlines(): void {
        $this->assertSame('as:4', sync::scope_of('deadline|as:4'));
        $this->assertSame('qz:9', sync::scope_of('learner_deadline|qz:9|5'));
        $this->assertSame(['as:4', 'qz:9'], sync::scopes(['assignids' => [4], 'quizids' => [9]]));
    }

    /** What the plugin's table holds once these objects were sent. */
    private static function sent(array $objects): array {
        $known = [];
        foreach (planner::plan($objects, [], 1000) as $action) {
            $known[$action['key']] = ['version' => $action['version'], 'hash' => $action['hash'], 'sent' => true];
        }
        return $known;
    }
}
