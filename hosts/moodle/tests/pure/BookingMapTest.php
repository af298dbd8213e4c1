<?php
use local_outlooksync\local\booking\map;
use local_outlooksync\local\sync;
use PHPUnit\Framework\TestCase;

/** mod_booking options to contract objects, through sync as the plugin sends them. */
final class BookingMapTest extends TestCase {
    private const SITE = ['wwwroot' => 'https://lms.example.com', 'timezone' => 'Europe/Berlin'];
    private const DAY = 1901088000;  // 2030-03-30 09:00 Berlin (UTC+1)

    private static function option(array $changes = []): array {
        return $changes + ['id' => 7, 'booking' => ['id' => 2, 'cmid' => 41, 'name' => 'Workshops', 'intro' => '<p>All</p>',
            'visible' => 1], 'text' => 'First aid', 'description' => '<p>Bring a towel</p>', 'location' => 'Room 2',
            'institution' => 'HQ', 'address' => '', 'status' => 0, 'coursestarttime' => self::DAY,
            'courseendtime' => self::DAY + 86400 + 7200,
            'dates' => [['timestart' => self::DAY + 86400, 'timefinish' => self::DAY + 86400 + 7200, 'teachers' => [31]],
                ['timestart' => self::DAY, 'timefinish' => self::DAY + 3600, 'teachers' => []]],
            'teachers' => [30, 31],
            'answers' => [['userid' => 5, 'waitinglist' => 0], ['userid' => 6, 'waitinglist' => 1],
                ['userid' => 7, 'waitinglist' => 5], ['userid' => 8, 'waitinglist' => 2], ['userid' => 9, 'waitinglist' => 0]]];
    }

    private static function objects(array $option): array {
        return sync::objects(['site' => self::SITE, 'users' => [], 'options' => [$option]]);
    }

    public function test_each_date_is_an_event_with_its_own_teacher_and_the_booked_users(): void {
        $objects = self::objects(self::option());
        $keys = array_keys($objects);
        sort($keys);
        $this->assertSame(['enrollment|bk:7:1|31', 'enrollment|bk:7:1|5', 'enrollment|bk:7:1|9',
            'enrollment|bk:7:2|5', 'enrollment|bk:7:2|9', 'event|bk:7:1', 'event|bk:7:2'], $keys);
        $first = $objects['event|bk:7:1'][1];
        $this->assertSame(['First aid (1/2)', '30', '<p>Bring a towel</p>', 'Room 2, HQ', false],
            [$first['title'], $first['organizer_id'], $first['description'], $first['location'], $first['cancelled']]);
        $this->assertSame('https://lms.example.com/mod/booking/optionview.php?optionid=7&cmid=41', $first['url']);
        $this->assertSame('2030-03-30T09:00:00+01:00', $first['sessions'][0]['start']);
        $this->assertSame(['31', '2030-03-31T10:00:00+02:00'],
            [$objects['event|bk:7:2'][1]['organizer_id'], $objects['event|bk:7:2'][1]['sessions'][0]['start']]);
    }

    public function test_only_a_booked_answer_holds_a_place(): void {
        $attendees = map::offering(self::SITE, self::option())['attendees'];
        $this->assertSame([5, 9], $attendees);  // waiting list (1), deleted (5) and reserved (2) are not booked
    }

    public function test_cancelled_option_or_hidden_activity_cancels_its_events(): void {
        $this->assertTrue(self::objects(self::option(['status' => 1]))['event|bk:7:1'][1]['cancelled']);
        $hidden = self::option();
        $hidden['booking']['visible'] = 0;
        $this->assertTrue(self::objects($hidden)['event|bk:7:2'][1]['cancelled']);
    }

    public function test_option_without_dates_takes_place_once_between_its_start_and_end(): void {
        $objects = self::objects(self::option(['dates' => [], 'description' => '', 'institution' => '']));
        $this->assertSame(['event|bk:7:1', 'enrollment|bk:7:1|31', 'enrollment|bk:7:1|5', 'enrollment|bk:7:1|9'],
            array_keys($objects));
        $event = $objects['event|bk:7:1'][1];
        $this->assertSame(['First aid', '<p>All</p>', 'Room 2', '2030-03-31T12:00:00+02:00'],
            [$event['title'], $event['description'], $event['location'], $event['sessions'][0]['end']]);
    }

    public function test_option_without_any_date_has_no_objects(): void {
        $this->assertSame([], self::objects(self::option(['dates' => [], 'coursestarttime' => 0, 'courseendtime' => 0])));
    }

    public function test_people_are_teachers_of_the_option_and_its_dates_and_everyone_who_answered(): void {
        $this->assertSame([30, 31, 5, 6, 7, 8, 9, 31], map::people(self::option()));
        $this->assertSame([30, 31, 5, 6, 7, 8, 9], sync::people(['options' => [self::option()]]));
    }
}
