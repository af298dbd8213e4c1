<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync;

use local_outlooksync\local\runner;

defined('MOODLE_INTERNAL') || die();
require_once(__DIR__ . '/fake_bridge.php');

/**
 * Under Moodle's own test framework: observers queue tasks, the runner reads real face-to-face
 * rows, sends each change once, keeps ids on retry and deletes what vanished. The bridge is
 * fake_bridge here (no HTTP server runs inside PHPUnit); the real bridge is exercised by the
 * end-to-end runs in docs/MOODLE.md and by tests/moodle in the bridge's own suite.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_outlooksync\local\runner
 */
final class sync_test extends \advanced_testcase {
    /** @var \stdClass */
    private $course;
    /** @var \stdClass */
    private $facetoface;

    protected function setUp(): void {
        global $CFG;
        require_once($CFG->dirroot . '/mod/facetoface/lib.php');
        $this->resetAfterTest();
        set_config('enabled', 1, 'local_outlooksync');
        set_config('bridgeurl', 'http://bridge.invalid', 'local_outlooksync');
        set_config('secret', 'test-host-secret-0123456789', 'local_outlooksync');
        set_config('account', 'moodle-test', 'local_outlooksync');
        $this->course = $this->getDataGenerator()->create_course();
        $this->facetoface = $this->getDataGenerator()->create_module('facetoface', ['course' => $this->course->id,
            'name' => 'Fire safety']);
    }

    /**
     * A session with dates (unix seconds), a trainer and one booked learner.
     *
     * @param array $starts
     * @return array [session, trainer, learner]
     */
    private function session(array $starts): array {
        global $DB;
        $generator = $this->getDataGenerator()->get_plugin_generator('mod_facetoface');
        $session = $generator->create_session(['facetoface' => $this->facetoface->id,
            'sessiondates' => array_map(fn($t) => ['timestart' => $t, 'timefinish' => $t + 3600], $starts)]);
        $trainer = $this->getDataGenerator()->create_user(['email' => 'ingrid@contoso.test']);
        $learner = $this->getDataGenerator()->create_user(['email' => 'lena@contoso.test']);
        $DB->insert_record('facetoface_session_roles', ['sessionid' => $session->id, 'roleid' => 3, 'userid' => $trainer->id]);
        $this->getDataGenerator()->enrol_user($learner->id, $this->course->id);
        facetoface_user_signup($session, $this->facetoface, $this->course, '', MDL_F2F_TEXT, MDL_F2F_STATUS_BOOKED,
            $learner->id, false);
        return [$session, $trainer, $learner];
    }

    /**
     * A fake bridge answering every hook with a status.
     *
     * @param int $status
     * @return fake_bridge
     */
    private function recorder(int $status = 202): fake_bridge {
        return new fake_bridge($status);
    }

    public function test_observer_only_queues_a_delivery_task(): void {
        global $DB;
        [$session] = $this->session([time() + DAYSECS]);
        $cm = get_coursemodule_from_instance('facetoface', $this->facetoface->id);
        $DB->delete_records('task_adhoc');  // The users made above queued their own deliveries.
        \mod_facetoface\event\signup_success::create(['context' => \context_module::instance($cm->id),
            'objectid' => $session->id])->trigger();
        $tasks = $DB->get_records('task_adhoc', ['classname' => '\local_outlooksync\task\deliver']);
        $this->assertCount(1, $tasks);
        $this->assertSame(['targets' => ['f2f' => [(int)$session->id]]], json_decode(reset($tasks)->customdata, true));
    }

    public function test_nothing_is_queued_when_switched_off(): void {
        global $DB;
        set_config('enabled', 0, 'local_outlooksync');
        $DB->delete_records('task_adhoc');  // What setUp queued while switched on (the activity's creation).
        $user = $this->getDataGenerator()->create_user();
        \core\event\user_updated::create_from_userid($user->id)->trigger();
        $this->assertSame(0, $DB->count_records('task_adhoc', ['classname' => '\local_outlooksync\task\deliver']));
    }

    public function test_each_date_becomes_an_event_with_trainer_and_booking(): void {
        $start = time() + DAYSECS;
        [$session, $trainer, $learner] = $this->session([$start, $start + DAYSECS]);
        $recorder = $this->recorder();
        (new runner($recorder))->send([], ['f2f' => [$session->id]]);
        $this->assertCount(1, $recorder->sent);
        $this->assertSame('http://bridge.invalid/hooks/batch', $recorder->sent[0]['url']);
        $sent = $recorder->deliveries();
        $first = "f2f:{$session->id}:1";
        $second = "f2f:{$session->id}:2";
        $this->assertEqualsCanonicalizing(["event.upserted $first", "event.upserted $second",
            "enrollment.upserted $first/{$learner->id}", "enrollment.upserted $second/{$learner->id}",
            "user.upserted {$trainer->id}", "user.upserted {$learner->id}"], array_keys($sent));
        $event = $sent["event.upserted $first"]['data'];
        $this->assertSame(['Fire safety (1/2)', (string)$trainer->id, false], [$event['title'], $event['organizer_id'],
            $event['cancelled']]);
        $this->assertSame($start, strtotime($event['sessions'][0]['start']));
        $this->assertSame(['instructor', 'learner'], [$sent["user.upserted {$trainer->id}"]['data']['role'],
            $sent["user.upserted {$learner->id}"]['data']['role']]);
        $this->assertSame('moodle-test', $sent["event.upserted $first"]['account']);
    }

    public function test_unchanged_state_is_not_sent_again_and_a_move_keeps_ids(): void {
        global $DB;
        $start = time() + DAYSECS;
        [$session] = $this->session([$start]);
        $first = $this->recorder();
        (new runner($first))->send([], ['f2f' => [$session->id]]);
        $again = $this->recorder();
        (new runner($again))->send([], ['f2f' => [$session->id]]);
        $this->assertSame([], $again->sent);

        // What facetoface_update_session() does to the dates: delete them all and insert the new ones. (Calling it
        // here trips a PHP 8 warning inside face-to-face's calendar code, which PHPUnit turns into an error.)
        $DB->delete_records('facetoface_sessions_dates', ['sessionid' => $session->id]);
        $DB->insert_record('facetoface_sessions_dates', ['sessionid' => $session->id, 'timestart' => $start + 7200,
            'timefinish' => $start + 10800]);
        $moved = $this->recorder();
        (new runner($moved))->send([], ['f2f' => [$session->id]]);
        $sent = $moved->deliveries();
        $this->assertSame(["event.upserted f2f:{$session->id}:1"], array_keys($sent));
        $before = $first->deliveries()["event.upserted f2f:{$session->id}:1"]['data']['version'];
        $this->assertGreaterThan($before, $sent["event.upserted f2f:{$session->id}:1"]['data']['version']);
    }

    public function test_refused_delivery_throws_and_the_retry_resends_the_same_ids(): void {
        [$session] = $this->session([time() + DAYSECS]);
        $down = $this->recorder(503);
        try {
            (new runner($down))->send([], ['f2f' => [$session->id]]);
            $this->fail('a 503 must throw so that Moodle retries the task');
        } catch (\moodle_exception $error) {
            $this->assertStringContainsString('HTTP 503', $error->getMessage());
            $this->assertStringNotContainsString('test-host-secret', $error->getMessage());
        }
        $up = $this->recorder();
        (new runner($up))->send([], ['f2f' => [$session->id]]);
        $this->assertSame(array_column($down->deliveries(), 'id'), array_column($up->deliveries(), 'id'));
    }

    public function test_cancelled_booking_suspension_and_deleted_session(): void {
        global $DB;
        [$session, , $learner] = $this->session([time() + DAYSECS]);
        (new runner($this->recorder()))->send([], ['f2f' => [$session->id]]);

        facetoface_user_cancel($session, $learner->id, true);
        $DB->set_field('user', 'suspended', 1, ['id' => $learner->id]);
        $recorder = $this->recorder();
        (new runner($recorder))->send([$learner->id], ['f2f' => [$session->id]]);
        $sent = $recorder->deliveries();
        $this->assertArrayHasKey("enrollment.deleted f2f:{$session->id}:1/{$learner->id}", $sent);
        $this->assertFalse($sent["user.upserted {$learner->id}"]['data']['active']);

        facetoface_delete_session($session);
        $recorder = $this->recorder();
        (new runner($recorder))->send([], ['f2f' => [$session->id]]);
        $this->assertArrayHasKey("event.deleted f2f:{$session->id}:1", $recorder->deliveries());
    }

    public function test_hidden_activity_cancels_its_events(): void {
        [$session] = $this->session([time() + DAYSECS]);
        $cm = get_coursemodule_from_instance('facetoface', $this->facetoface->id);
        set_coursemodule_visible($cm->id, 0);
        $recorder = $this->recorder();
        (new runner($recorder))->send([], ['f2f' => [$session->id]]);
        $this->assertTrue($recorder->deliveries()["event.upserted f2f:{$session->id}:1"]['data']['cancelled']);
    }

    public function test_backfill_sends_everyone_through_batches(): void {
        [$session] = $this->session([time() + DAYSECS]);
        $recorder = $this->recorder();
        $count = (new runner($recorder))->backfill();
        $this->assertGreaterThanOrEqual(4, $count);
        foreach ($recorder->sent as $request) {
            $this->assertSame('http://bridge.invalid/hooks/batch', $request['url']);
        }
        $this->assertArrayHasKey("event.upserted f2f:{$session->id}:1", $recorder->deliveries());
        $this->assertArrayHasKey('user.upserted 2', $recorder->deliveries());
        $this->assertSame('owner', $recorder->deliveries()['user.upserted 2']['data']['role']);
    }

    public function test_privacy_metadata_names_the_bridge(): void {
        $collection = \local_outlooksync\privacy\provider::get_metadata(
            new \core_privacy\local\metadata\collection('local_outlooksync'));
        $this->assertSame(['outlooksync_bridge', 'local_outlooksync_state', 'local_outlooksync_feedurl',
            'local_outlooksync_feedissued'],
            array_map(fn($item) => $item->get_name(), $collection->get_collection()));
    }

    public function test_privacy_exports_and_deletes_what_names_the_user(): void {
        global $DB;
        [$session, $trainer, $learner] = $this->session([time() + DAYSECS]);
        (new runner($this->recorder()))->send([], ['f2f' => [$session->id]]);
        $provider = \local_outlooksync\privacy\provider::class;
        $system = \context_system::instance();
        $this->assertEquals([$system->id], $provider::get_contexts_for_userid($learner->id)->get_contextids());
        $this->assertTrue((new \core_privacy\manager())->component_is_compliant('local_outlooksync'));
        $provider::delete_data_for_user(new \core_privacy\local\request\approved_contextlist($learner, 'local_outlooksync',
            [$system->id]));
        $this->assertSame([], $provider::get_contexts_for_userid($learner->id)->get_contextids());
        $this->assertTrue($DB->record_exists('local_outlooksync_state', ['objectkey' => "user|{$trainer->id}"]));
    }
}
