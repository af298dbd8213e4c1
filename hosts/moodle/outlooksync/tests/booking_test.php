<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync;

use local_outlooksync\local\booking\map;
use local_outlooksync\local\runner;

defined('MOODLE_INTERNAL') || die();
require_once(__DIR__ . '/fake_bridge.php');

/**
 * mod_booking under Moodle's own test framework, with mod_booking's own generator and API: an option
 * with dates and a teacher, a booking, a cancellation, a cancelled option; its events queue the
 * delivery task, and the reconcile finds the options. The bridge is fake_bridge (see there).
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_outlooksync\local\booking\source
 */
final class booking_test extends \advanced_testcase {
    /** @var \stdClass */
    private $course;
    /** @var \stdClass */
    private $booking;

    protected function setUp(): void {
        parent::setUp();
        if (!\core_component::get_component_directory('mod_booking')) {
            $this->markTestSkipped('mod_booking is not installed in this Moodle');
        }
        $this->resetAfterTest();
        set_config('enabled', 1, 'local_outlooksync');
        set_config('bridgeurl', 'http://bridge.invalid', 'local_outlooksync');
        set_config('secret', 'test-host-secret-0123456789', 'local_outlooksync');
        set_config('account', 'moodle-test', 'local_outlooksync');
        \mod_booking\singleton_service::destroy_instance();
        $this->course = $this->getDataGenerator()->create_course();
        $this->booking = $this->getDataGenerator()->create_module('booking', ['course' => $this->course->id,
            'name' => 'Workshops', 'eventtype' => 'Workshop', 'bookedtext' => ['text' => 'text'],
            'waitingtext' => ['text' => 'text'], 'notifyemail' => ['text' => 'text'], 'statuschangetext' => ['text' => 'text'],
            'deletedtext' => ['text' => 'text'], 'pollurltext' => ['text' => 'text'], 'pollurlteacherstext' => ['text' => 'text'],
            'notificationtext' => ['text' => 'text'], 'userleave' => ['text' => 'text'], 'tags' => '',
            'showviews' => ['mybooking,myoptions,optionsiamresponsiblefor,showall,showactive,myinstitution']]);
        $this->setAdminUser();
    }

    protected function tearDown(): void {
        // mod_booking's generator resets mod_booking's static caches (the next test's option gets the same id),
        // and last local_shopping_cart's, which mod_booking does not need and this site does not have.
        if (\core_component::get_component_directory('mod_booking')) {
            try {
                $this->getDataGenerator()->get_plugin_generator('mod_booking')->teardown();
            } catch (\Error $e) {
                if (!str_contains($e->getMessage(), 'local_shopping_cart')) {
                    throw $e;
                }
            }
        }
        parent::tearDown();
    }

    /**
     * An option with two dates, a teacher, and a booked learner (through mod_booking's own API).
     *
     * @param int $start unix seconds of the first date
     * @return array [option, teacher, learner]
     */
    private function option(int $start): array {
        $teacher = $this->getDataGenerator()->create_user(['email' => 'ingrid@contoso.test']);
        $learner = $this->getDataGenerator()->create_user(['email' => 'lena@contoso.test']);
        $this->getDataGenerator()->enrol_user($teacher->id, $this->course->id, 'editingteacher');
        $this->getDataGenerator()->enrol_user($learner->id, $this->course->id);
        $option = $this->getDataGenerator()->get_plugin_generator('mod_booking')->create_option((object)[
            'bookingid' => $this->booking->id, 'text' => 'First aid', 'courseid' => $this->course->id, 'maxanswers' => 5,
            'location' => 'Room 2', 'optiondateid_0' => '0', 'daystonotify_0' => '0', 'coursestarttime_0' => $start,
            'courseendtime_0' => $start + 7200, 'optiondateid_1' => '0', 'daystonotify_1' => '0',
            'coursestarttime_1' => $start + DAYSECS, 'courseendtime_1' => $start + DAYSECS + 7200,
            'teachersforoption' => $teacher->username]);
        \mod_booking\singleton_service::destroy_booking_option_singleton($option->id);
        $settings = \mod_booking\singleton_service::get_instance_of_booking_option_settings($option->id);
        \mod_booking\singleton_service::get_instance_of_booking_option($settings->cmid, $option->id)
            ->user_submit_response($learner, 0, 0, 0, MOD_BOOKING_VERIFIED);
        return [$option, $teacher, $learner];
    }

    public function test_each_date_of_an_option_becomes_an_event_with_its_teacher_and_booking(): void {
        $start = time() + 3 * DAYSECS;
        [$option, $teacher, $learner] = $this->option($start);
        $bridge = new fake_bridge();
        (new runner($bridge))->send([], [map::KIND => [$option->id]]);
        $sent = $bridge->deliveries();
        $first = "bk:{$option->id}:1";
        $second = "bk:{$option->id}:2";
        $this->assertEqualsCanonicalizing(["event.upserted $first", "event.upserted $second",
            "enrollment.upserted $first/{$learner->id}", "enrollment.upserted $second/{$learner->id}",
            "user.upserted {$teacher->id}", "user.upserted {$learner->id}"], array_keys($sent));
        $event = $sent["event.upserted $first"]['data'];
        $this->assertSame(['First aid (1/2)', (string)$teacher->id, 'Room 2', false],
            [$event['title'], $event['organizer_id'], $event['location'], $event['cancelled']]);
        $this->assertSame($start, strtotime($event['sessions'][0]['start']));
        $this->assertSame('instructor', $sent["user.upserted {$teacher->id}"]['data']['role']);
        $this->assertStringContainsString("/mod/booking/optionview.php?optionid={$option->id}", $event['url']);
    }

    public function test_booking_events_queue_the_delivery_of_the_option(): void {
        global $DB;
        [$option] = $this->option(time() + 3 * DAYSECS);
        $queued = array_map(fn($task) => json_decode($task->customdata, true),
            $DB->get_records('task_adhoc', ['classname' => '\local_outlooksync\task\deliver']));
        $this->assertContains(['targets' => [map::KIND => [(int)$option->id]]], array_values($queued));
    }

    public function test_a_cancelled_booking_and_a_cancelled_option(): void {
        $start = time() + 3 * DAYSECS;
        [$option, , $learner] = $this->option($start);
        (new runner(new fake_bridge()))->send([], [map::KIND => [$option->id]]);
        $settings = \mod_booking\singleton_service::get_instance_of_booking_option_settings($option->id);
        \mod_booking\singleton_service::get_instance_of_booking_option($settings->cmid, $option->id)
            ->user_delete_response($learner->id);
        $bridge = new fake_bridge();
        (new runner($bridge))->send([], [map::KIND => [$option->id]]);
        $this->assertArrayHasKey("enrollment.deleted bk:{$option->id}:1/{$learner->id}", $bridge->deliveries());

        \mod_booking\booking_option::cancelbookingoption((int)$option->id, 'storm');
        $bridge = new fake_bridge();
        (new runner($bridge))->send([], [map::KIND => [$option->id]]);
        $this->assertTrue($bridge->deliveries()["event.upserted bk:{$option->id}:2"]['data']['cancelled']);
    }

    public function test_the_reconcile_finds_current_options_and_deleted_ones(): void {
        global $DB;
        [$option] = $this->option(time() + 3 * DAYSECS);
        $runner = new runner(new fake_bridge());
        $this->assertContains((int)$option->id, $runner->current(time())[map::KIND]);
        $runner->send([], [map::KIND => [$option->id]]);
        $DB->delete_records('booking_optiondates', ['optionid' => $option->id]);
        $DB->delete_records('booking_options', ['id' => $option->id]);
        $this->assertSame([(int)$option->id], $runner->orphans()[map::KIND]);
        $bridge = new fake_bridge();
        (new runner($bridge))->send_all([], $runner->orphans());
        $this->assertArrayHasKey("event.deleted bk:{$option->id}:2", $bridge->deliveries());
    }
}
