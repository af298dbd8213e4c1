<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync;

use local_outlooksync\task\backfill;
use local_outlooksync\task\reconcile;

/**
 * Switching the plugin on owes a backfill however it is done: the settings page and admin/cli/cfg.php
 * log the change (set_config, then add_to_config_log, as admin/cli/cfg.php does), and a value written
 * without a log (config.php, a script) is noticed by the reconcile task.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_outlooksync\task\backfill
 * @covers     \local_outlooksync\task\reconcile
 */
final class switch_on_test extends \advanced_testcase {
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        set_config('bridgeurl', 'http://bridge.invalid', 'local_outlooksync');
        set_config('secret', 'test-host-secret-0123456789', 'local_outlooksync');
        set_config('account', 'moodle-test', 'local_outlooksync');
    }

    /**
     * How many backfill tasks are queued.
     *
     * @return int
     */
    private function queued(): int {
        global $DB;
        return $DB->count_records('task_adhoc', ['classname' => '\\' . backfill::class]);
    }

    public function test_cfg_php_switching_it_on_queues_the_backfill_once(): void {
        // What admin/cli/cfg.php --component=local_outlooksync --name=enabled --set=1 does.
        set_config('enabled', 1, 'local_outlooksync');
        add_to_config_log('enabled', '0', '1', 'local_outlooksync');
        $this->assertSame(1, $this->queued());
        add_to_config_log('enabled', '1', '1', 'local_outlooksync');
        $this->assertSame(1, $this->queued(), 'a pending backfill is not queued twice');
    }

    public function test_switching_it_off_queues_nothing_and_owes_the_next_switch_on_a_backfill(): void {
        set_config('backfilled', time(), 'local_outlooksync');
        add_to_config_log('enabled', '1', '0', 'local_outlooksync');
        $this->assertSame(0, $this->queued());
        $this->assertEmpty(get_config('local_outlooksync', 'backfilled'));
    }

    public function test_the_reconcile_task_notices_a_switch_on_nobody_logged(): void {
        set_config('enabled', 1, 'local_outlooksync');  // e.g. forced in config.php: no log, no event
        $this->assertSame(0, $this->queued());
        ob_start();
        (new reconcile())->execute();
        $printed = ob_get_clean();
        $this->assertSame(1, $this->queued());
        $this->assertStringContainsString('switched on; backfill queued', $printed);
    }

    public function test_once_a_backfill_ran_the_reconcile_task_goes_on_to_send(): void {
        set_config('enabled', 1, 'local_outlooksync');
        set_config('backfilled', time(), 'local_outlooksync');
        try {
            ob_start();
            (new reconcile())->execute();
            $this->fail('the site administrator is new to the bridge, so the reconcile sends (to no bridge here)');
        } catch (\moodle_exception $e) {
            $this->assertStringContainsString('http://bridge.invalid/hooks', $e->getMessage());
        } finally {
            ob_end_clean();
        }
        $this->assertSame(0, $this->queued(), 'no backfill is owed');
    }

    public function test_the_reconcile_task_seeing_it_off_owes_the_next_switch_on_a_backfill(): void {
        set_config('enabled', 0, 'local_outlooksync');
        set_config('backfilled', time(), 'local_outlooksync');
        (new reconcile())->execute();
        $this->assertEmpty(get_config('local_outlooksync', 'backfilled'));
        $this->assertSame(0, $this->queued());
    }
}
