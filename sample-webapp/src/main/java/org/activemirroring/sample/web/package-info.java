/**
 * The HTTP side: one servlet per page, the filter that finds the logged-in user and checks the
 * CSRF token of every POST, form validation and the error page.
 */
package org.activemirroring.sample.web;
