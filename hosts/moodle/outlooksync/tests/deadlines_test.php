<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync;

use local_outlooksync\local\deadlines\assign_source;
use local_outlooksync\local\deadlines\quiz_source;
use local_outlooksync\local\runner;
use local_outlooksync\local\sources;

defined('MOODLE_INTERNAL') || die();
require_once(__DIR__ . '/fake_bridge.php');

/**
 * Under Moodle's own test framework: assignments and quizzes read as deadlines, with Moodle's own
 * override resolution, extensions and submissions; the observers queue their delivery; the setting
 * switches them off.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_outlooksync\local\deadlines\activity_source
 */
final class deadlines_test extends \advanced_testcase {
    /** @var \stdClass */
    private $course;
    /** @var \stdClass[] name => user: lena (no group), lars and gina (group "Night shift") */
    private $users = [];
    /** @var \stdClass */
    private $group;

    protected function setUp(): void {
        global $CFG;
        require_once($CFG->dirroot . '/mod/assign/locallib.php');
        $this->resetAfterTest();
        $this->setAdminUser();  // granting an extension needs mod/assign:grantextension
        foreach (['enabled' => 1, 'deadlines' => 1, 'bridgeurl' => 'http://bridge.invalid',
                'secret' => 'test-host-secret-0123456789', 'account' => 'moodle-test'] as $name => $value) {
            set_config($name, $value, 'local_outlooksync');
        }
        $generator = $this->getDataGenerator();
        $this->course = $generator->create_course();
        $teacher = $generator->create_user();
        $generator->enrol_user($teacher->id, $this->course->id, 'editingteacher');
        $this->group = $generator->create_group(['courseid' => $this->course->id, 'name' => 'Night shift']);
        foreach (['lena', 'lars', 'gina'] as $name) {
            $this->users[$name] = $generator->create_user(['username' => $name]);
            $generator->enrol_user($this->users[$name]->id, $this->course->id, 'student');
        }
        foreach (['lars', 'gina'] as $name) {
            $generator->create_group_member(['groupid' => $this->group->id, 'userid' => $this->users[$name]->id]);
        }
    }

    /**
     * Learners of a snapshot item, by username.
     *
     * @param array $item
     * @return array username => [due, done]
     */
    private function learners(array $item): array {
        $names = array_flip(array_map(fn($u) => (int)$u->id, $this->users));
        $found = [];
        foreach ($item['learners'] as $learner) {
            $found[$names[$learner['userid']]] = [$learner['due'], $learner['done']];
        }
        ksort($found);
        return $found;
    }

    public function test_assignment_due_dates_follow_extension_group_override_and_submission(): void {
        $due = time() + 7 * DAYSECS;
        $assign = $this->getDataGenerator()->create_module('assign', ['course' => $this->course->id, 'duedate' => $due,
            'submissiondrafts' => 0, 'assignsubmission_onlinetext_enabled' => 1]);
        $generator = $this->getDataGenerator()->get_plugin_generator('mod_assign');
        $generator->create_extension(['cmid' => $assign->cmid, 'userid' => $this->users['lena']->id,
            'extensionduedate' => $due + 2 * DAYSECS]);
        $generator->create_override(['assignid' => $assign->id, 'groupid' => $this->group->id, 'duedate' => $due + DAYSECS,
            'sortorder' => 1]);
        $generator->create_submission(['cmid' => $assign->cmid, 'userid' => $this->users['lars']->id,
            'onlinetext' => 'Stairs B']);
        [$item] = (new assign_source())->snapshots([$assign->id]);
        $this->assertSame($due, $item['due']);
        $this->assertSame(['gina' => [$due + DAYSECS, false], 'lars' => [$due + DAYSECS, true],
            'lena' => [$due + 2 * DAYSECS, false]], $this->learners($item));
    }

    public function test_quiz_close_times_follow_group_override_and_finished_attempts(): void {
        $close = time() + 7 * DAYSECS;
        $quiz = $this->getDataGenerator()->create_module('quiz', ['course' => $this->course->id, 'timeclose' => $close]);
        $this->getDataGenerator()->get_plugin_generator('mod_quiz')->create_override(['quiz' => $quiz->id,
            'groupid' => $this->group->id, 'timeclose' => $close + 3600]);
        [$item] = (new quiz_source())->snapshots([$quiz->id]);
        $this->assertSame(['gina' => [$close + 3600, false], 'lars' => [$close + 3600, false], 'lena' => [$close, false]],
            $this->learners($item));
        $this->assertSame([(int)$quiz->id], (new quiz_source())->current(time()));
    }

    public function test_an_activity_restricted_to_a_group_applies_to_its_members_only(): void {
        global $CFG;
        $CFG->enableavailability = true;
        $availability = json_encode(\core_availability\tree::get_root_json(
            [\availability_group\condition::get_json($this->group->id)]));
        $assign = $this->getDataGenerator()->create_module('assign', ['course' => $this->course->id,
            'duedate' => time() + DAYSECS, 'availability' => $availability]);
        [$item] = (new assign_source())->snapshots([$assign->id]);
        $this->assertSame(['gina', 'lars'], array_keys($this->learners($item)));
    }

    public function test_an_extension_queues_the_assignments_delivery_and_it_is_sent_once(): void {
        global $DB;
        $assign = $this->getDataGenerator()->create_module('assign', ['course' => $this->course->id,
            'duedate' => time() + DAYSECS]);
        $DB->delete_records('task_adhoc');
        $this->getDataGenerator()->get_plugin_generator('mod_assign')->create_extension(['cmid' => $assign->cmid,
            'userid' => $this->users['lena']->id, 'extensionduedate' => time() + 3 * DAYSECS]);
        $tasks = \core\task\manager::get_adhoc_tasks('\local_outlooksync\task\deliver');
        $this->assertCount(1, $tasks);
        $this->assertSame(['activities' => ['assign' => [(int)$assign->id]]],
            json_decode(reset($tasks)->get_custom_data_as_string(), true));
        $bridge = new fake_bridge(202);
        $runner = new runner($bridge);
        $first = $runner->send([], ['as' => [$assign->id]]);
        $this->assertSame(['deadline.upserted', 'learner_deadline.upserted', 'learner_deadline.upserted',
            'learner_deadline.upserted', 'user.upserted', 'user.upserted', 'user.upserted'], array_column($first, 'topic'));
        $this->assertSame([], $runner->send([], ['as' => [$assign->id]]));
    }

    public function test_switched_off_deadlines_are_not_read_and_what_was_sent_is_deleted(): void {
        $assign = $this->getDataGenerator()->create_module('assign', ['course' => $this->course->id,
            'duedate' => time() + DAYSECS]);
        $bridge = new fake_bridge(202);
        (new runner($bridge))->send([], ['as' => [$assign->id]]);
        set_config('deadlines', 0, 'local_outlooksync');
        $this->assertArrayNotHasKey('as', sources::installed());
        $runner = new runner($bridge);
        $gone = $runner->send([], $runner->orphans());
        $this->assertSame(['deadline.deleted', 'learner_deadline.deleted', 'learner_deadline.deleted',
            'learner_deadline.deleted'], array_column($gone, 'topic'));
    }
}
