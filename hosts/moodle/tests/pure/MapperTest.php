<?php
use local_outlooksync\local\facetoface\map;
use local_outlooksync\local\mapper;
use PHPUnit\Framework\TestCase;

/** Moodle rows to contract objects. */
final class MapperTest extends TestCase {
    private const SITE = ['wwwroot' => 'https://lms.example.com/', 'timezone' => 'Europe/Berlin'];

    private static function user(array $changes = []): array {
        return $changes + ['id' => 5, 'email' => 'ada@example.com', 'name' => 'Ada Lovelace', 'suspended' => 0,
            'deleted' => 0, 'auth' => 'manual', 'timezone' => 'Europe/London', 'primaryadmin' => false,
            'siteadmin' => false, 'manager' => false, 'trainer' => false];
    }

    private static function session(array $changes = []): array {
        return $changes + ['id' => 12, 'details' => '', 'location' => 'Room 4', 'onlineurl' => null,
            'facetoface' => ['id' => 3, 'cmid' => 40, 'name' => 'Safety', 'intro' => '<p>Boots</p>', 'visible' => 1],
            // 2030-03-30 09:00 and 2030-03-31 09:00 Berlin: the second is after the switch to summer time
            'dates' => [['timestart' => 1901088000 + 86400, 'timefinish' => 1901088000 + 86400 + 3600],
                ['timestart' => 1901088000, 'timefinish' => 1901088000 + 7200]],
            'trainers' => [9, 8], 'signups' => [['userid' => 5, 'statuscode' => 70], ['userid' => 6, 'statuscode' => 10],
                ['userid' => 7, 'statuscode' => 60], ['userid' => 4, 'statuscode' => 100]]];
    }

    /** The face-to-face session's objects, as sync maps them. */
    private static function f2f(array $session): array {
        return mapper::occurrences(self::SITE, 'f2f:' . $session['id'], map::offering(self::SITE, $session));
    }

    public function test_roles(): void {
        $this->assertSame('owner', mapper::role(self::user(['primaryadmin' => true, 'siteadmin' => true])));
        $this->assertSame('admin', mapper::role(self::user(['siteadmin' => true, 'trainer' => true])));
        $this->assertSame('admin', mapper::role(self::user(['manager' => true])));
        $this->assertSame('instructor', mapper::role(self::user(['trainer' => true])));
        $this->assertSame('learner', mapper::role(self::user()));
    }

    public function test_active_user(): void {
        $this->assertSame(['user|5' => ['user.upserted', ['id' => '5', 'email' => 'ada@example.com',
            'name' => 'Ada Lovelace', 'active' => true, 'role' => 'learner', 'timezone' => 'Europe/London']]],
            mapper::user(self::user()));
    }

    public function test_suspended_or_nologin_user_is_inactive(): void {
        $this->assertFalse(mapper::user(self::user(['suspended' => 1]))['user|5'][1]['active']);
        $this->assertFalse(mapper::user(self::user(['auth' => 'nologin']))['user|5'][1]['active']);
    }

    public function test_deleted_user_is_deleted(): void {
        $this->assertSame(['user|5' => ['user.deleted', ['id' => '5']]], mapper::user(self::user(['deleted' => 1])));
    }

    public function test_each_date_is_an_event_in_date_order(): void {
        $objects = self::f2f(self::session());
        $first = $objects['event|f2f:12:1'][1];
        $this->assertSame('Safety (1/2)', $first['title']);
        $this->assertSame([['id' => 'f2f:12:1', 'start' => '2030-03-30T09:00:00+01:00',
            'end' => '2030-03-30T11:00:00+01:00']], $first['sessions']);
        $second = $objects['event|f2f:12:2'][1];
        $this->assertSame('2030-03-31T10:00:00+02:00', $second['sessions'][0]['start']);
        $this->assertSame('9', $first['organizer_id']);
        $this->assertSame('https://lms.example.com/mod/facetoface/view.php?id=40', $first['url']);
        $this->assertSame('<p>Boots</p>', $first['description']);
        $this->assertSame(['Room 4', null, 'Europe/Berlin', false],
            [$first['location'], $first['online_url'], $first['timezone'], $first['cancelled']]);
    }

    public function test_seated_learners_and_other_trainers_are_enrolled_in_every_date(): void {
        $keys = array_keys(self::f2f(self::session()));
        sort($keys);
        $this->assertSame(['enrollment|f2f:12:1|4', 'enrollment|f2f:12:1|5', 'enrollment|f2f:12:1|8',
            'enrollment|f2f:12:2|4', 'enrollment|f2f:12:2|5', 'enrollment|f2f:12:2|8',
            'event|f2f:12:1', 'event|f2f:12:2'], $keys);
        $this->assertSame(['enrollment.upserted', ['event_id' => 'f2f:12:2', 'user_id' => '5', 'session_id' => 'f2f:12:2']],
            self::f2f(self::session())['enrollment|f2f:12:2|5']);
    }

    public function test_single_date_title_and_details_online_link_hidden_activity(): void {
        $session = self::session(['dates' => [['timestart' => 1901088000, 'timefinish' => 1901264400]],
            'details' => '<b>Bring a laptop</b>', 'onlineurl' => 'https://meet.example.com/x', 'trainers' => []]);
        $session['facetoface']['visible'] = 0;
        $event = self::f2f($session)['event|f2f:12:1'][1];
        $this->assertSame(['Safety', '<b>Bring a laptop</b>', 'https://meet.example.com/x', true, mapper::NO_TRAINER],
            [$event['title'], $event['description'], $event['online_url'], $event['cancelled'], $event['organizer_id']]);
    }

    public function test_online_link_that_is_not_a_web_address_is_dropped(): void {
        $event = self::f2f(self::session(['onlineurl' => 'javascript:alert(1)']))['event|f2f:12:1'][1];
        $this->assertNull($event['online_url']);
    }

    public function test_session_without_dates_has_no_objects(): void {
        $this->assertSame([], self::f2f(self::session(['dates' => []])));
        $placeholder = [['timestart' => 0, 'timefinish' => 0]];
        $this->assertSame([], self::f2f(self::session(['dates' => $placeholder])));
    }

    public function test_date_ending_before_start_is_refused(): void {
        $this->expectException(InvalidArgumentException::class);
        self::f2f(self::session(['dates' => [['timestart' => 100, 'timefinish' => 100]]]));
    }

    public function test_people_are_trainers_and_everyone_who_signed_up(): void {
        $this->assertSame([9, 8, 5, 6, 7, 4], map::people(self::session()));
    }

    public function test_a_date_with_its_own_trainers_has_them_instead(): void {
        $offering = map::offering(self::SITE, self::session());
        $offering['dates'][1]['trainers'] = [3];
        $objects = mapper::occurrences(self::SITE, 'x:1', $offering);
        $this->assertSame(['9', '3'], [$objects['event|x:1:2'][1]['organizer_id'], $objects['event|x:1:1'][1]['organizer_id']]);
        $this->assertArrayHasKey('enrollment|x:1:2|8', $objects);  // the offering's other trainer is only in its own date
        $this->assertArrayNotHasKey('enrollment|x:1:1|8', $objects);
    }

    public function test_deletions_from_keys(): void {
        $this->assertSame(['user.deleted', ['id' => '5']], mapper::deletion('user|5'));
        $this->assertSame(['event.deleted', ['id' => 'f2f:12:1']], mapper::deletion('event|f2f:12:1'));
        $this->assertSame(['enrollment.deleted', ['event_id' => 'f2f:12:1', 'user_id' => '5']],
            mapper::deletion('enrollment|f2f:12:1|5'));
    }
}
