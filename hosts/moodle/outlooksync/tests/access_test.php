<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync;

/**
 * Who reaches Site administration → … → Microsoft Outlook Calendar: the admin tree as Moodle builds it
 * for each user (admin_get_root), the way admin_externalpage_setup() finds the page.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @coversNothing
 */
final class access_test extends \advanced_testcase {
    protected function setUp(): void {
        global $CFG;
        parent::setUp();
        require_once($CFG->libdir . '/adminlib.php');
        $this->resetAfterTest();
    }

    /**
     * The page as the admin tree of a user holds it, with its path; null when the user's tree has none.
     *
     * @param \stdClass $user
     * @return \admin_externalpage|null
     */
    private function page_for(\stdClass $user): ?\admin_externalpage {
        $this->setUser($user);
        return admin_get_root(true, false)->locate('local_outlooksync_page', true);
    }

    public function test_a_manager_reaches_the_page_under_local_plugins_or_else_plugins(): void {
        global $DB;
        $manager = $this->getDataGenerator()->create_user();
        role_assign($DB->get_field('role', 'id', ['shortname' => 'manager']), $manager->id, \context_system::instance());
        $page = $this->page_for($manager);
        $this->assertNotNull($page, 'the page is in the manager\'s admin tree');
        $this->assertTrue($page->check_access());
        // Moodle 4.3 to 4.5 make "Local plugins" for site administrators only; 5.0 for everyone.
        $parents = admin_get_root()->locate('localplugins') ? ['localplugins', 'modules', 'root'] : ['modules', 'root'];
        $this->assertSame(array_merge(['local_outlooksync_page'], $parents), $page->path);
        $this->assertNull(admin_get_root(true, false)->locate('local_outlooksync'), 'the connection settings stay admin-only');
        $this->assertDebuggingNotCalled();  // no "parent does not exist!"
    }

    public function test_any_role_given_the_capability_reaches_it(): void {
        $holder = $this->getDataGenerator()->create_user();
        $roleid = $this->getDataGenerator()->create_role(['shortname' => 'calendarkeeper']);
        assign_capability('local/outlooksync:manage', CAP_ALLOW, $roleid, \context_system::instance());
        role_assign($roleid, $holder->id, \context_system::instance());
        $page = $this->page_for($holder);
        $this->assertNotNull($page);
        $this->assertTrue($page->check_access());
    }

    public function test_a_learner_and_a_teacher_do_not(): void {
        $course = $this->getDataGenerator()->create_course();
        foreach (['student', 'editingteacher'] as $role) {
            $user = $this->getDataGenerator()->create_user();
            $this->getDataGenerator()->enrol_user($user->id, $course->id, $role);
            $this->assertNull($this->page_for($user), "a $role has no such page");
            $this->assertFalse(has_capability('local/outlooksync:manage', \context_system::instance(), $user));
        }
    }

    public function test_a_site_administrator_finds_it_under_local_plugins(): void {
        $page = $this->page_for(get_admin());
        $this->assertSame(['local_outlooksync_page', 'localplugins', 'modules', 'root'], $page->path);
        $this->assertTrue($page->check_access());
    }
}
